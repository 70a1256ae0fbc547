"""The worker's OpenBao-backed stores, read and written with its own AppRole
identity: the registered profiles and revocations (cached briefly: a tool call
costs the backend nothing extra, and a revocation reaches every worker within
seconds, while the backend itself refuses the profile's credentials at once),
the approvers' public keys (as briefly), and the missions' original prompts
(sealed.pinning)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions

from sealed.approvals.keys import ApproverKeyError, check_public
from sealed.approvals.registry import ApproverUnknown
from sealed.audit import AuditLog
from sealed.audit.anchor import KeptAnchor
from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.keys import read_audit_key
from sealed.identity.openbao.kv import (
    KV_MOUNT,
    anchor_path,
    approver_path,
    profile_path,
    prompt_path,
    read_kv,
    read_kv_versioned,
    revocation_path,
    write_kv_cas,
)
from sealed.identity.profiles import Profile, ProfileNotAllowed
from sealed.models import OriginalPrompt
from sealed.pinning import verified

# How stale a worker's view of profiles and revocations may be.
PROFILE_CACHE_SECONDS = 2.0


class VaultProfiles:
    def __init__(self, worker: AppRoleClient, ttl: float = PROFILE_CACHE_SECONDS) -> None:
        self._worker = worker
        self._ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, object] | None]] = {}

    async def _read(self, what: str, path: str) -> dict[str, object] | None:
        hit = self._cache.get(path)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        data = await self._worker.acall(what, lambda c: read_kv(c, path))
        self._cache[path] = (time.monotonic(), data)
        return data

    async def revoke_mission(self, mission_id: str, reason: str, actor: str) -> None:
        """Written with the worker's own identity, which may create a mission's
        revocation but never change or lift one (only an operator can)."""
        path = revocation_path("mission", mission_id)
        record: dict[str, object] = {
            "kind": "mission",
            "name": mission_id,
            "reason": reason,
            "actor": actor,
            "at": datetime.now(UTC).isoformat(),
        }

        def write(client: hvac.Client) -> None:
            try:
                if write_kv_cas(client, path, record, cas=0):
                    return
            except hvac.exceptions.Forbidden:
                pass  # an existing record is the operator's to change
            # Revoked first by someone else is just as revoked; anything else
            # fails the attempt, which is retried: the abort waits for it.
            if read_kv(client, path) is None:
                raise SecretUnavailable(f"mission '{mission_id}': revocation not recorded")

        await self._worker.acall("mission revocation", write)
        self._cache[path] = (time.monotonic(), record)

    async def for_call(self, profile: str, mission_id: str) -> Profile:
        """The profile a call runs under; raises ProfileNotAllowed when it or
        the mission is revoked, SecretUnavailable when that cannot be known."""
        data = await self._read(f"profile '{profile}'", profile_path(profile))
        if data is None:
            raise ProfileNotAllowed(f"profile '{profile}' is not registered")
        if await self._read("revocations", revocation_path("profile", profile)) is not None:
            raise ProfileNotAllowed(f"profile '{profile}' is revoked")
        if await self._read("revocations", revocation_path("mission", mission_id)) is not None:
            raise ProfileNotAllowed(f"mission '{mission_id}' is revoked")
        try:
            return Profile.model_validate(data)
        except ValueError as exc:
            raise SecretUnavailable(f"profile '{profile}': stored document is invalid") from exc


class VaultApproverKeys:
    """sealed.approvals.registry.ApproverKeys over OpenBao KV, read with the
    worker's AppRole: a registered key is cached `ttl` seconds (removing one
    reaches every worker that soon); an unregistered name is asked again every
    time (registering one takes effect at once); an unreadable registry is
    SecretUnavailable (retried; nothing is approved meanwhile)."""

    def __init__(self, worker: AppRoleClient, ttl: float = PROFILE_CACHE_SECONDS) -> None:
        self._worker = worker
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}

    async def _key(self, name: str) -> str:
        hit = self._cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        try:
            path = approver_path(name)
        except ValueError:
            raise ApproverUnknown(f"approver '{name}': not an approver name") from None
        data = await self._worker.acall(f"approver '{name}'", lambda c: read_kv(c, path))
        if data is None:
            raise ApproverUnknown(f"approver '{name}' has no registered key (`sealed keys new`)")
        try:
            key = check_public(str(data.get("public_key", "")))
        except ApproverKeyError as exc:
            raise ApproverUnknown(f"approver '{name}': the registered key is invalid") from exc
        self._cache[name] = (time.monotonic(), key)
        return key

    async def public_keys(self, names: Sequence[str]) -> dict[str, str]:
        return {name: await self._key(name) for name in dict.fromkeys(names)}


class VaultPromptStore:
    """OpenBao/Vault KV v2 (encrypted at rest, versioned). Written create-only
    (check-and-set 0): the worker's policy allows create and read, not update."""

    def __init__(self, worker: AppRoleClient) -> None:
        self._worker = worker

    def _put(self, client: hvac.Client, prompt: OriginalPrompt, digest: str) -> None:
        # Already stored (a retry, or another mission with the same instructions):
        # writing it again is an update, which the policy refuses. `get`
        # verifies whatever is there.
        with contextlib.suppress(hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
            client.secrets.kv.v2.create_or_update_secret(
                path=prompt_path(digest),
                secret={"prompt": prompt.canonical().decode()},
                cas=0,
                mount_point=KV_MOUNT,
            )

    async def put(self, prompt: OriginalPrompt) -> str:
        digest = prompt.digest()
        await self._worker.acall("original prompt", lambda c: self._put(c, prompt, digest))
        return digest

    async def get(self, digest: str) -> OriginalPrompt:
        data = await self._worker.acall(
            "original prompt", lambda c: read_kv(c, prompt_path(digest))
        )
        return verified(digest, _stored(data))


def _stored(data: dict[str, object] | None) -> bytes | None:
    """The stored prompt's bytes; a document without one is as good as missing."""
    prompt = None if data is None else data.get("prompt")
    return prompt.encode() if isinstance(prompt, str) else None


def read_original(client: hvac.Client, digest: str) -> OriginalPrompt:
    """Operator side (`sealed audit prompt`): the verified original."""
    return verified(digest, _stored(read_kv(client, prompt_path(digest))))


class VaultAuditAnchor:
    """The audit log's anchor (sealed.audit.anchor) in OpenBao KV, written with
    check-and-set so two writers never move it back."""

    def __init__(self, call: Callable[[str, Callable[[hvac.Client], Any]], Any], name: str):
        self._call = call
        self._path = anchor_path(name)

    def load(self) -> tuple[int, str, int] | None:
        found = self._call("audit anchor", lambda c: read_kv_versioned(c, self._path))
        if found is None:
            return None
        data, version = found
        return int(data["records"]), str(data["last_hash"]), version

    def save(self, records: int, last_hash: str, version: int) -> bool:
        head = {"records": records, "last_hash": last_hash}
        return bool(
            self._call("audit anchor", lambda c: write_kv_cas(c, self._path, head, version))
        )


def vault_audit_log(
    path: Path,
    call: Callable[[str, Callable[[hvac.Client], Any]], Any],
    anchor: str,
    *,
    interval: float,
) -> AuditLog:
    """The audit log a writer keeps: sealed with the key from OpenBao, its head
    anchored there (every `interval` seconds, or at once when 0)."""
    return AuditLog(
        path,
        key=call("audit key", read_audit_key),
        anchor=KeptAnchor(VaultAuditAnchor(call, anchor), interval),
    )
