"""Operator-side OpenBao calls: provisioning the worker's AppRole, registering
profiles (their policies and token role), and revoking at the backend. Runs
with an operator token (the dev stack's root token locally), never in a worker."""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime
from typing import Any, Literal

import hvac
import hvac.exceptions
from pydantic import BaseModel, ConfigDict

from sealed.identity.vault import (
    KV_MOUNT,
    REVOCATIONS_PREFIX,
    WORKER_POLICY,
    WORKER_ROLE,
    profile_path,
    read_kv,
    read_kv_versioned,
    revocation_path,
    secret_path,
)
from sealed.identity.workload import (
    AUDIENCE,
    OIDC_KEY,
    OIDC_ROLE,
    claims_template,
    spiffe_pattern,
)
from sealed.profiles import Profile, token_role, tool_policy

RevocationKind = Literal["profile", "mission"]
# The longest any credential of a profile may live, whatever a call asks for.
MAX_CREDENTIAL_TTL = "24h"


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RevocationKind
    name: str
    reason: str
    actor: str
    at: datetime


class ProfileRevoked(Exception):
    pass


def _policy_for(profile: Profile, tool: str) -> str:
    paths = []
    for name in sorted(profile.granted(tool)):
        spec = profile.secrets[name]
        if spec.backend == "vault-kv":
            path = f"{KV_MOUNT}/data/{secret_path(spec.ref)}"
        elif spec.backend == "vault-identity":
            path = f"identity/oidc/token/{spec.ref}"
        else:
            continue
        paths.append(f'path "{path}" {{ capabilities = ["read"] }}')
    # A policy must say something: a tool granted nothing here may read nothing.
    return (
        "\n".join(paths)
        or f'path "{KV_MOUNT}/data/{secret_path("-")}" {{ capabilities = ["deny"] }}'
    )


class VaultAdmin:
    def __init__(self, url: str, token: str) -> None:
        self.client = hvac.Client(url=url, token=token, timeout=10)

    # --- set-up -------------------------------------------------------------------

    def ensure_kv(self, mount: str = KV_MOUNT, timeout: float = 30.0) -> None:
        if f"{mount}/" not in self.client.sys.list_mounted_secrets_engines()["data"]:
            self.client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        # A new (or just unsealed) KV v2 mount upgrades its storage in the
        # background and refuses reads until done ("Upgrading from
        # non-versioned to versioned data"): wait for it rather than race it.
        deadline = time.monotonic() + timeout
        while True:
            try:
                read_kv_versioned(self.client, "sealed/.ready", mount)
                return
            except hvac.exceptions.InvalidRequest:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def provision_worker(self) -> tuple[str, str]:
        """The worker's AppRole: returns (role_id, a new secret_id)."""
        if "approle/" not in self.client.sys.list_auth_methods()["data"]:
            self.client.sys.enable_auth_method("approle")
        self.client.sys.create_or_update_policy(name=WORKER_ROLE, policy=WORKER_POLICY)
        self.client.auth.approle.create_or_update_approle(
            WORKER_ROLE, token_policies=[WORKER_ROLE], token_ttl="1h", token_max_ttl="24h"
        )
        role_id = self.client.auth.approle.read_role_id(WORKER_ROLE)["data"]["role_id"]
        secret_id = self.client.auth.approle.generate_secret_id(WORKER_ROLE)["data"]["secret_id"]
        return str(role_id), str(secret_id)

    def provision_identity_tokens(self) -> None:
        """OpenBao's identity token issuer: a signing key and the role whose
        tokens carry the mission's SPIFFE id (published keys: .well-known/keys)."""
        self.client.adapter.post(
            f"/v1/identity/oidc/key/{OIDC_KEY}",
            json={"algorithm": "RS256", "allowed_client_ids": [AUDIENCE], "rotation_period": "24h"},
        )
        accessor = self.client.sys.list_auth_methods()["data"]["token/"]["accessor"]
        self.client.adapter.post(
            f"/v1/identity/oidc/role/{OIDC_ROLE}",
            json={
                "key": OIDC_KEY,
                "client_id": AUDIENCE,
                "ttl": "5m",
                "template": base64.b64encode(claims_template(accessor).encode()).decode(),
            },
        )

    def ensure_redaction_key(self) -> None:
        """The worker-wide key per-mission fingerprint keys derive from
        (sealed.redaction.known); created once, kept across restarts."""
        if read_kv(self.client, "sealed/redaction/key") is None:
            self.client.secrets.kv.v2.create_or_update_secret(
                path="sealed/redaction/key",
                secret={"value": base64.b64encode(secrets.token_bytes(32)).decode()},
                mount_point=KV_MOUNT,
            )

    def put_secret(self, name: str, value: str) -> None:
        self.client.secrets.kv.v2.create_or_update_secret(
            path=secret_path(name), secret={"value": value}, mount_point=KV_MOUNT
        )

    # --- profiles -------------------------------------------------------------------

    def apply_profile(self, profile: Profile) -> list[str]:
        """Create or update the profile's policies and token role; returns the policies."""
        if self.revocation("profile", profile.name) is not None:
            raise ProfileRevoked(f"profile '{profile.name}' is revoked: unrevoke it first")
        policies = []
        for tool in profile.tools:
            name = tool_policy(profile.name, tool)
            self.client.sys.create_or_update_policy(name=name, policy=_policy_for(profile, tool))
            policies.append(name)
        self._write_role(profile.name, policies)
        self.client.secrets.kv.v2.create_or_update_secret(
            path=profile_path(profile.name),
            secret=profile.model_dump(mode="json"),
            mount_point=KV_MOUNT,
        )
        return policies

    def _write_role(self, profile: str, policies: list[str]) -> None:
        self.client.adapter.post(
            f"/v1/auth/token/roles/{token_role(profile)}",
            json={
                "allowed_policies": policies,
                "disallowed_policies": ["root", WORKER_ROLE],
                "orphan": True,  # a credential outlives a worker restart, not its call
                "renewable": True,
                "token_explicit_max_ttl": MAX_CREDENTIAL_TTL,
                "token_type": "service",
                "allowed_entity_aliases": [spiffe_pattern(profile)],
            },
        )

    def profile(self, name: str) -> Profile | None:
        data = read_kv(self.client, profile_path(name))
        return None if data is None else Profile.model_validate(data)

    # --- revocation -------------------------------------------------------------------

    def revocation(self, kind: RevocationKind, name: str) -> Revocation | None:
        data = read_kv(self.client, revocation_path(kind, name))
        return None if data is None else Revocation.model_validate(data)

    def revocations(self) -> list[Revocation]:
        found = []
        kinds: tuple[RevocationKind, ...] = ("profile", "mission")
        for kind in kinds:
            try:
                keys = self.client.secrets.kv.v2.list_secrets(
                    path=f"{REVOCATIONS_PREFIX}/{kind}", mount_point=KV_MOUNT
                )["data"]["keys"]
            except hvac.exceptions.InvalidPath:
                continue
            found += [r for key in keys if (r := self.revocation(kind, key)) is not None]
        return sorted(found, key=lambda r: r.at)

    def record_revocation(
        self, kind: RevocationKind, name: str, reason: str, actor: str
    ) -> Revocation:
        revocation = Revocation(
            kind=kind, name=name, reason=reason, actor=actor, at=datetime.now(UTC)
        )
        self.client.secrets.kv.v2.create_or_update_secret(
            path=revocation_path(kind, name),
            secret=revocation.model_dump(mode="json"),
            mount_point=KV_MOUNT,
        )
        return revocation

    def lift_revocation(self, kind: RevocationKind, name: str) -> Revocation | None:
        revocation = self.revocation(kind, name)
        if revocation is None:
            return None
        self.client.secrets.kv.v2.delete_metadata_and_all_versions(
            path=revocation_path(kind, name), mount_point=KV_MOUNT
        )
        if kind == "profile" and (profile := self.profile(name)) is not None:
            self.apply_profile(profile)
        return revocation

    def kill_profile_credentials(self, profile: str) -> None:
        """No new credential (the role is gone) and none left alive (its lease prefix)."""
        self.client.adapter.delete(f"/v1/auth/token/roles/{token_role(profile)}")
        self.client.adapter.put(
            f"/v1/sys/leases/revoke-prefix/auth/token/create/{token_role(profile)}"
        )

    def kill_mission_credentials(self, mission_id: str) -> list[str]:
        """Revokes every live token whose metadata names the mission; returns their accessors."""
        try:
            accessors = self.client.adapter.list("/v1/auth/token/accessors")["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            return []
        killed = []
        for accessor in accessors:
            try:
                data: dict[str, Any] = self.client.auth.token.lookup_accessor(accessor)["data"]
            except hvac.exceptions.VaultError:
                continue  # expired meanwhile
            if (data.get("meta") or {}).get("mission_id") == mission_id:
                self.client.auth.token.revoke_accessor(accessor)
                killed.append(accessor)
        return killed
