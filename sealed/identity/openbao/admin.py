"""Operator-side OpenBao calls: registering profiles (their policies and token
role, and the workers' policy that follows from them), revocation records, and
killing credentials at the backend. Runs with an operator token (the dev
stack's root token locally), never in a worker; the one-time set-up is
sealed.identity.bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import hvac
import hvac.exceptions
import requests
from pydantic import BaseModel, ConfigDict

from sealed.approvals.keys import check_public
from sealed.identity.openbao.kv import (
    APPROVERS_PREFIX,
    AUDIT_ANCHORS_PREFIX,
    AUDIT_KEY_PATH,
    CODEC_KEYS_PATH,
    KV_MOUNT,
    PROFILES_PREFIX,
    PROMPTS_PREFIX,
    REDACTION_KEY_PATH,
    REVOCATIONS_PREFIX,
    SECRETS_PREFIX,
    WORKER_ROLE,
    approver_path,
    profile_path,
    read_kv,
    revocation_path,
    secret_path,
    unavailable,
    write_kv_cas,
)
from sealed.identity.profiles import Profile, token_role, tool_policy
from sealed.identity.workload import spiffe_pattern

T = TypeVar("T")
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


class ApproverExists(Exception):
    """A name already registered with another key (replace it on purpose)."""


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
        or f'path "{KV_MOUNT}/data/{SECRETS_PREFIX}/-" {{ capabilities = ["deny"] }}'
    )


# What every worker may do besides minting: end the tokens it minted, read
# profiles, revocations, approvers' public keys and its keys, add prompts,
# move its audit anchor and record a mission revoked (a directive's abort;
# never change or lift a revocation). It cannot read a single secret value itself.
_WORKER_PATHS = f"""
path "auth/token/revoke-accessor" {{ capabilities = ["update"] }}
path "{KV_MOUNT}/data/{PROFILES_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REVOCATIONS_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REVOCATIONS_PREFIX}/mission/*" {{ capabilities = ["create", "read"] }}
path "{KV_MOUNT}/data/{APPROVERS_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REDACTION_KEY_PATH}" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{CODEC_KEYS_PATH}" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{PROMPTS_PREFIX}/*" {{ capabilities = ["create", "read"] }}
path "{KV_MOUNT}/data/{AUDIT_KEY_PATH}" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{AUDIT_ANCHORS_PREFIX}/*" {{ capabilities = ["create", "read", "update"] }}
"""


def worker_policy(mint: Iterable[str], deny: Iterable[str] = ()) -> str:
    """A worker's policy: per-call tokens minted under the token roles `mint`
    names (a glob for the shared worker, exact roles for a per-profile one),
    never under those `deny` names, and the same reads for every worker. An
    exact path outranks a glob in OpenBao's ACLs, so a deny carves a dedicated
    profile out of the shared worker's glob."""
    rules = [f'path "auth/token/create/{role}" {{ capabilities = ["update"] }}' for role in mint]
    rules += [f'path "auth/token/create/{role}" {{ capabilities = ["deny"] }}' for role in deny]
    return "\n" + "\n".join(rules) + _WORKER_PATHS


def shared_worker_policy(dedicated: Iterable[str]) -> str:
    """The shared worker's: every profile's token role (the glob sealed-p-*)
    but the dedicated ones'."""
    return worker_policy([token_role("*")], deny=[token_role(name) for name in sorted(dedicated)])


class VaultAdmin:
    def __init__(self, url: str, token: str) -> None:
        self.client = hvac.Client(url=url, token=token, timeout=10)

    def call(self, what: str, fn: Callable[[hvac.Client], T]) -> T:
        """`fn` with the operator's client; a failure reported as the runtime
        reports backend failures (what, and why; never a value)."""
        try:
            return fn(self.client)
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise unavailable(what, exc) from exc

    # --- secrets --------------------------------------------------------------------

    def put_secret(self, name: str, value: str) -> None:
        self.client.secrets.kv.v2.create_or_update_secret(
            path=secret_path(name), secret={"value": value}, mount_point=KV_MOUNT
        )

    # --- profiles -------------------------------------------------------------------

    def apply_profile(self, profile: Profile) -> list[str]:
        """Create or update the profile's policies and token role; returns the policies."""
        if self.revocation("profile", profile.name) is not None:
            raise ProfileRevoked(f"profile '{profile.name}' is revoked: unrevoke it first")
        # First: a profile turning dedicated is out of the shared worker's reach
        # at OpenBao before its own role or record says anything new.
        self.client.sys.create_or_update_policy(
            name=WORKER_ROLE, policy=self.registered_worker_policy(profile)
        )
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
                "renewable": False,
                "token_no_default_policy": True,
                "token_explicit_max_ttl": MAX_CREDENTIAL_TTL,
                "token_type": "service",
                "allowed_entity_aliases": [spiffe_pattern(profile)],
            },
        )

    def profile(self, name: str) -> Profile | None:
        data = read_kv(self.client, profile_path(name))
        return None if data is None else Profile.model_validate(data)

    def dedicated_profiles(self) -> set[str]:
        """The registered profiles (revoked ones too: they keep their record)
        that declare `worker: dedicated`. Read as stored, not as the current
        model would validate them: an older record must not block every apply."""
        try:
            keys = self.client.secrets.kv.v2.list_secrets(
                path=PROFILES_PREFIX, mount_point=KV_MOUNT
            )["data"]["keys"]
        except hvac.exceptions.InvalidPath:  # none yet
            return set()
        return {
            key
            for key in keys
            if (read_kv(self.client, profile_path(key)) or {}).get("worker") == "dedicated"
        }

    def registered_worker_policy(self, applying: Profile | None = None) -> str:
        """The shared worker's policy for the registered profiles (and
        `applying`, about to be): rewritten whenever a profile is applied, and
        by bootstrap, so a dedicated profile is never in its reach."""
        dedicated = self.dedicated_profiles()
        if applying is not None:
            dedicated.discard(applying.name)
            if applying.worker == "dedicated":
                dedicated.add(applying.name)
        return shared_worker_policy(dedicated)

    # --- approvers (Sealed IV) ----------------------------------------------------------

    def register_approver(self, name: str, public_key: str, *, replace: bool = False) -> bool:
        """Registers `name`'s public key (`ed25519:<base64>`), which workers
        read to check its decisions. Another key already under that name is
        kept (ApproverExists) unless `replace`. False when it was there already."""
        path = approver_path(name)
        document = {"public_key": check_public(public_key)}
        found = read_kv(self.client, path)
        if found == document:
            return False
        if found is not None and not replace:
            raise ApproverExists(
                f"approver '{name}' is registered with another key: replace it on purpose"
            )
        if found is None and write_kv_cas(self.client, path, document, 0):
            return True
        if not replace:  # registered meanwhile by someone else
            raise ApproverExists(f"approver '{name}' was registered meanwhile")
        self.client.secrets.kv.v2.create_or_update_secret(
            path=path, secret=document, mount_point=KV_MOUNT
        )
        return True

    def approver(self, name: str) -> str | None:
        """`name`'s registered public key, or None."""
        data = read_kv(self.client, approver_path(name))
        key = None if data is None else data.get("public_key")
        return key if isinstance(key, str) else None

    def approvers(self) -> dict[str, str | None]:
        """Every registered approver's public key (None: a stored document
        without a readable one)."""
        try:
            names = self.client.secrets.kv.v2.list_secrets(
                path=APPROVERS_PREFIX, mount_point=KV_MOUNT
            )["data"]["keys"]
        except hvac.exceptions.InvalidPath:  # none yet
            return {}
        return {name: self.approver(name) for name in sorted(names) if not name.endswith("/")}

    def remove_approver(self, name: str) -> bool:
        """Forgets `name`'s key (a lost or leaked one): no decision of theirs
        counts once the workers' caches expire. False if there was none."""
        path = approver_path(name)
        if read_kv(self.client, path) is None:
            return False
        self.client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=KV_MOUNT)
        return True

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
