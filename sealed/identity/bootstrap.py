"""Provisioning OpenBao / Vault for Sealed (`sealed bootstrap`). Idempotent: run
on every `sealed dev` start and once, as an init service, before the workers of
the production shape (docker-compose.yml). With an operator token it creates:

- the KV v2 mount, waited on until it answers reads;
- the codec key ring (created once, never replaced: histories depend on it);
- the worker-wide redaction key and the audit chain's key (created once);
- the identity token issuer that signs mission JWTs;
- the AppRoles, each with its policy and a new secret id of bounded TTL: the
  shared worker's (mints per-call credentials under every profile's token role
  but the dedicated profiles', reads profiles, revocations and its keys, never
  a secret value), one per set of dedicated profiles asked for (the same, but
  minting under exactly those profiles' roles: a per-profile worker), and the
  codec server's (reads the codec keys, nothing else);
- every profile in a folder: its per-tool policies and its token role (a
  revoked profile is left revoked);
- secrets given to it by name (the dev stack's demo ticket token; production
  keeps its own secrets in OpenBao by its own means);
- approvers' public keys given to it by name (the dev stack's demo approver;
  production registers its approvers with `sealed keys`): the key given is
  the one kept, whatever was registered under that name before.

Key material stays in OpenBao: only key ids are reported. The logins are
returned for the caller to write as 0600 files; never printed or logged."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import hvac
import hvac.exceptions
import requests
from pydantic import BaseModel, ConfigDict, SecretStr

from sealed.config import login_files, login_name
from sealed.files import write_private
from sealed.identity.openbao.admin import VaultAdmin, worker_policy
from sealed.identity.openbao.keys import provision_vault_keys
from sealed.identity.openbao.kv import (
    AUDIT_KEY_PATH,
    CODEC_KEYS_PATH,
    KV_MOUNT,
    REDACTION_KEY_PATH,
    read_kv,
    read_kv_versioned,
    write_kv_cas,
)
from sealed.identity.profiles import Profile, load_profile, token_role
from sealed.identity.workload import AUDIENCE, OIDC_KEY, OIDC_ROLE, claims_template
from sealed.types import ProfileName

# The codec server is an HTTP service the Web UI reaches: the keys, nothing more.
CODEC_POLICY = f"""
path "{KV_MOUNT}/data/{CODEC_KEYS_PATH}" {{ capabilities = ["read"] }}
"""
# A leaked secret id stops working after this, whatever else happens; the
# operator re-runs bootstrap (and restarts the worker) to give it a new one.
DEFAULT_SECRET_ID_TTL = "720h"


class BootstrapError(RuntimeError):
    """OpenBao refused or could not be reached, or a per-profile worker's login
    was asked for a profile it cannot serve; says which step, never a value."""


class AppRoleLogin(BaseModel):
    """A process's OpenBao login. The secret id is a credential."""

    model_config = ConfigDict(frozen=True)

    login: Literal["worker", "codec"]
    profiles: tuple[ProfileName, ...] = ()  # a per-profile worker's, sorted
    role_id: str
    secret_id: SecretStr

    @property
    def name(self) -> str:
        return login_name(self.login, self.profiles)

    def write(self, directory: Path) -> None:
        """As the files Settings reads; created 0600, never readable by others."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        role_file, secret_file = login_files(self.name)
        write_private(directory / role_file, self.role_id)
        write_private(directory / secret_file, self.secret_id.get_secret_value())


class BootstrapReport(BaseModel):
    """What bootstrap found or made: names and ids, never a value."""

    codec_key_ids: list[str]
    codec_current: str
    profiles_applied: list[str]
    profiles_revoked: list[str]
    # Approvers whose key was registered or replaced by this run.
    approvers_registered: list[str] = []


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


def _destroy_secret_ids(client: hvac.Client, role: str) -> None:
    try:
        accessors = client.auth.approle.list_secret_id_accessors(role)["data"]["keys"]
    except hvac.exceptions.InvalidPath:  # none yet
        return
    for accessor in accessors:
        client.auth.approle.destroy_secret_id_accessor(role, accessor)


def provision_approle(
    client: hvac.Client, role: str, policy: str, secret_id_ttl: str, *, replace: bool = False
) -> tuple[str, str]:
    """The role's policy and AppRole (tokens live an hour, then it logs in
    again with its secret id), and a new secret id: (role_id, secret_id).
    `replace` destroys the role's earlier secret ids first: whoever held one
    must use the new login from now on."""
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(name=role, policy=policy)
    client.auth.approle.create_or_update_approle(
        role,
        token_policies=[role],
        token_ttl="1h",
        token_max_ttl="24h",
        secret_id_ttl=secret_id_ttl,
    )
    if replace:
        _destroy_secret_ids(client, role)
    role_id = client.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    return str(role_id), str(secret_id)


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


def ensure_key(client: hvac.Client, path: str) -> None:
    """A 256-bit key created once and kept across restarts: the redaction key
    per-mission fingerprint keys derive from, the audit chain's HMAC key."""
    if read_kv(client, path) is not None:
        return
    # Create-only: of two bootstraps at once, the second keeps the first's key.
    write_kv_cas(client, path, {"value": base64.b64encode(secrets.token_bytes(32)).decode()}, 0)


def load_profiles(directory: Path) -> list[Profile]:
    """Every profile in the folder, all valid (SpecError otherwise); a folder
    that holds none is a mistake worth saying."""
    if not directory.is_dir():
        raise FileNotFoundError(f"profiles folder {directory} does not exist")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise FileNotFoundError(f"profiles folder {directory} holds no *.yaml profile")
    return [load_profile(path) for path in files]


def _dedicated(admin: VaultAdmin, names: Sequence[str]) -> None:
    """A per-profile worker's login only for profiles that are registered and
    dedicated: one for a shared profile would poll a queue nobody submits to,
    with a second login able to mint under that profile's role."""
    for name in names:
        profile = admin.profile(name)
        if profile is None:
            raise BootstrapError(
                f"worker for {','.join(names)}: profile '{name}' is not registered: apply it "
                "first (--profiles, or `sealed profiles apply`)"
            )
        if profile.worker != "dedicated":
            raise BootstrapError(
                f"worker for {','.join(names)}: profile '{name}' runs on the shared worker "
                "(worker: shared): declare `worker: dedicated` in it to give it workers of its own"
            )


def bootstrap(
    admin: VaultAdmin,
    *,
    profiles: Path | None,
    secret_id_ttl: str = DEFAULT_SECRET_ID_TTL,
    values: Mapping[str, str] | None = None,
    approvers: Mapping[str, str] | None = None,
    replace_logins: bool = False,
    workers_for: Sequence[Sequence[str]] = (),
) -> tuple[BootstrapReport, list[AppRoleLogin]]:
    """Everything above, in order; safe to run again at any time. The profiles
    are read (and a bad one refused) before anything is created. `workers_for`:
    the sets of dedicated profiles that each get a per-profile worker's login;
    `approvers`: public keys (`ed25519:<base64>`) to register by name."""
    to_apply = load_profiles(profiles) if profiles is not None else []
    sets = sorted({tuple(sorted(set(names))) for names in workers_for if names})
    client = admin.client
    step = "KV mount"
    try:
        ensure_kv(client)
        step = "codec keys"
        keyring = provision_vault_keys(client)
        step = "redaction and audit keys"
        ensure_key(client, REDACTION_KEY_PATH)
        ensure_key(client, AUDIT_KEY_PATH)
        step = "identity token issuer"
        provision_identity_tokens(client)
        for name, value in (values or {}).items():
            step = f"secret '{name}'"
            admin.put_secret(name, value)
        registered = []
        for name, public in (approvers or {}).items():
            step = f"approver '{name}'"
            if admin.register_approver(name, public, replace=True):
                registered.append(name)
        applied, revoked = [], []
        for profile in to_apply:
            step = f"profile '{profile.name}'"
            if admin.revocation("profile", profile.name) is not None:
                revoked.append(profile.name)
                continue
            admin.apply_profile(profile)
            applied.append(profile.name)
        for names in sets:
            step = f"worker for {','.join(names)}"
            _dedicated(admin, names)
        # Last, so a failed run leaves no secret id nobody holds.
        step = "AppRoles"
        # A login's AppRole and policy are named `sealed-<login name>`
        # (sealed-worker, sealed-worker-a_b, sealed-codec).
        roles: list[tuple[Literal["worker", "codec"], tuple[str, ...], str]] = [
            ("worker", (), admin.registered_worker_policy()),
            *(("worker", names, worker_policy([token_role(n) for n in names])) for names in sets),
            ("codec", (), CODEC_POLICY),
        ]
        logins = []
        for login, names, policy in roles:
            role = f"sealed-{login_name(login, names)}"
            role_id, secret_id = provision_approle(
                client, role, policy, secret_id_ttl, replace=replace_logins
            )
            logins.append(
                AppRoleLogin(
                    login=login, profiles=names, role_id=role_id, secret_id=SecretStr(secret_id)
                )
            )
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        raise BootstrapError(f"{step}: {type(exc).__name__}: {exc}") from exc
    report = BootstrapReport(
        codec_key_ids=keyring.key_ids,
        codec_current=keyring.current,
        profiles_applied=applied,
        profiles_revoked=revoked,
        approvers_registered=registered,
    )
    return report, logins
