"""The runtime's OpenBao / HashiCorp Vault code, in one place (with
sealed.identity.bootstrap, which provisions it, and sealed.devstack.openbao,
which starts the embedded server):

- kv.py: where things are kept (paths) and the reads everything builds on;
- approle.py: a process's own AppRole login (the worker's, the codec server's);
- credentials.py: per-call credentials (`vault-kv`, `vault-token`, `vault-identity`);
- stores.py: what workers read and write with their identity (profiles and
  revocations, approvers' public keys, original prompts);
- keys.py: the codec key ring and the redaction key;
- admin.py: operator calls (profiles, approvers' keys, revocation records,
  killing credentials)."""
