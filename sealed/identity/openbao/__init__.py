"""Every OpenBao / HashiCorp Vault call the runtime makes, in one place:

- kv.py: where things are kept (paths) and the reads everything builds on;
- worker.py: the worker's own AppRole identity;
- credentials.py: per-call credentials (`vault-kv`, `vault-token`, `vault-identity`);
- stores.py: what workers read and write with their identity (profiles and
  revocations, original prompts);
- keys.py: the codec key ring and the redaction key;
- admin.py: operator calls (profiles, revocation records, killing credentials).

Provisioning is sealed.identity.bootstrap."""
