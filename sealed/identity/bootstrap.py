"""Provisioning OpenBao / Vault for Sealed (`sealed bootstrap`). Idempotent: run
on every `sealed dev` start and once, as an init service, before the workers of
the production shape (docker-compose.yml). With an operator token it creates
what the runtime needs and nothing reads a value back out:

- the KV v2 mount, waited on until it answers reads;
- the codec key ring (created once, never replaced: histories depend on it);
- the worker-wide redaction key (created once);
- the identity token issuer that signs mission JWTs;
- the worker's policy and AppRole, and a new secret id for it, with a bounded
  TTL (the worker logs in again with it whenever its token expires);
- every profile in a folder: its per-tool policies and its token role (a
  revoked profile is left revoked)."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

import hvac
import hvac.exceptions
from pydantic import BaseModel, ConfigDict

from sealed.codec import KeyRing
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.keys import provision_vault_keys
from sealed.identity.openbao.kv import (
    CODEC_KEYS_PATH,
    KV_MOUNT,
    PROFILES_PREFIX,
    PROMPTS_PREFIX,
    REDACTION_KEY_PATH,
    REVOCATIONS_PREFIX,
    WORKER_ROLE,
    read_kv,
    read_kv_versioned,
)
from sealed.identity.profiles import load_profile
from sealed.identity.workload import AUDIENCE, OIDC_KEY, OIDC_ROLE, claims_template

# The worker may mint per-call tokens under profile roles and end them, and read
# profiles, revocations and its keys: it cannot read a single secret value itself.
WORKER_POLICY = f"""
path "auth/token/create/sealed-p-*" {{ capabilities = ["update"] }}
path "auth/token/revoke-accessor" {{ capabilities = ["update"] }}
path "auth/token/renew-accessor" {{ capabilities = ["update"] }}
path "{KV_MOUNT}/data/{PROFILES_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REVOCATIONS_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REDACTION_KEY_PATH}" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{CODEC_KEYS_PATH}" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{PROMPTS_PREFIX}/*" {{ capabilities = ["create", "read"] }}
"""
# A leaked secret id stops working after this, whatever else happens; the
# operator re-runs bootstrap to give the worker a new one.
DEFAULT_SECRET_ID_TTL = "720h"
ROLE_ID_FILE = "worker-role-id"
SECRET_ID_FILE = "worker-secret-id"


class WorkerAppRole(BaseModel):
    """The worker's login. The secret id is a credential: written to a 0600
    file for the worker, never printed or logged."""

    model_config = ConfigDict(frozen=True)

    role_id: str
    secret_id: str

    def __repr__(self) -> str:
        return f"WorkerAppRole(role_id={self.role_id!r}, secret_id=<hidden>)"

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, value in ((ROLE_ID_FILE, self.role_id), (SECRET_ID_FILE, self.secret_id)):
            path = directory / name
            path.write_text(value)
            path.chmod(0o600)


class BootstrapReport(BaseModel):
    """What bootstrap found or made: names and ids, never a value."""

    codec_key_ids: list[str]
    codec_current: str
    profiles_applied: list[str]
    profiles_revoked: list[str]


def ensure_kv(client: hvac.Client, mount: str = KV_MOUNT, timeout: float = 30.0) -> None:
    if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    # A new (or just unsealed) KV v2 mount upgrades its storage in the
    # background and refuses reads until done ("Upgrading from
    # non-versioned to versioned data"): wait for it rather than race it.
    deadline = time.monotonic() + timeout
    while True:
        try:
            read_kv_versioned(client, "sealed/.ready", mount)
            return
        except hvac.exceptions.InvalidRequest:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def provision_worker(
    client: hvac.Client, secret_id_ttl: str = DEFAULT_SECRET_ID_TTL
) -> WorkerAppRole:
    """The worker's policy and AppRole, and a new secret id for it."""
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(name=WORKER_ROLE, policy=WORKER_POLICY)
    client.auth.approle.create_or_update_approle(
        WORKER_ROLE,
        token_policies=[WORKER_ROLE],
        token_ttl="1h",
        token_max_ttl="24h",
        secret_id_ttl=secret_id_ttl,
    )
    role_id = client.auth.approle.read_role_id(WORKER_ROLE)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(WORKER_ROLE)["data"]["secret_id"]
    return WorkerAppRole(role_id=str(role_id), secret_id=str(secret_id))


def provision_identity_tokens(client: hvac.Client) -> None:
    """OpenBao's identity token issuer: a signing key and the role whose
    tokens carry the mission's SPIFFE id (published keys: .well-known/keys)."""
    client.adapter.post(
        f"/v1/identity/oidc/key/{OIDC_KEY}",
        json={"algorithm": "RS256", "allowed_client_ids": [AUDIENCE], "rotation_period": "24h"},
    )
    accessor = client.sys.list_auth_methods()["data"]["token/"]["accessor"]
    client.adapter.post(
        f"/v1/identity/oidc/role/{OIDC_ROLE}",
        json={
            "key": OIDC_KEY,
            "client_id": AUDIENCE,
            "ttl": "5m",
            "template": base64.b64encode(claims_template(accessor).encode()).decode(),
        },
    )


def ensure_redaction_key(client: hvac.Client) -> None:
    """The worker-wide key per-mission fingerprint keys derive from
    (sealed.redaction.known); created once, kept across restarts."""
    if read_kv(client, REDACTION_KEY_PATH) is None:
        client.secrets.kv.v2.create_or_update_secret(
            path=REDACTION_KEY_PATH,
            secret={"value": base64.b64encode(secrets.token_bytes(32)).decode()},
            mount_point=KV_MOUNT,
        )


def profile_files(directory: Path) -> list[Path]:
    """The profiles to apply; a folder that holds none is a mistake worth saying."""
    if not directory.is_dir():
        raise FileNotFoundError(f"profiles folder {directory} does not exist")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise FileNotFoundError(f"profiles folder {directory} holds no *.yaml profile")
    return files


def bootstrap(
    admin: VaultAdmin,
    *,
    profiles: Path | None,
    codec_keys_path: str = CODEC_KEYS_PATH,
    secret_id_ttl: str = DEFAULT_SECRET_ID_TTL,
) -> tuple[BootstrapReport, WorkerAppRole, KeyRing]:
    """Everything above, in order; safe to run again at any time."""
    ensure_kv(admin.client)
    keyring = provision_vault_keys(admin.client, codec_keys_path)
    ensure_redaction_key(admin.client)
    provision_identity_tokens(admin.client)
    approle = provision_worker(admin.client, secret_id_ttl)
    applied, revoked = [], []
    for path in profile_files(profiles) if profiles is not None else []:
        profile = load_profile(path)
        if admin.revocation("profile", profile.name) is not None:
            revoked.append(profile.name)
            continue
        admin.apply_profile(profile)
        applied.append(profile.name)
    report = BootstrapReport(
        codec_key_ids=keyring.key_ids,
        codec_current=keyring.current,
        profiles_applied=applied,
        profiles_revoked=revoked,
    )
    return report, approle, keyring
