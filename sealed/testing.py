"""What a user needs to test their own agents and tools without servers: a
credential backend over a dict, profiles held in memory, a redaction key given
in code, approvers' public keys from a dict. Each stands in for a real backend
that has its own test against its real server; use them with
`sealed.workers.worker.build_worker(spine=...)`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sealed.approvals.registry import ApproverUnknown
from sealed.identity.backend import (
    Credential,
    CredentialRequest,
    Lease,
    SecretUnavailable,
    SecretValue,
)
from sealed.identity.profiles import Profile, ProfileNotAllowed


class DictBackend:
    """Issues values from a dict; records what was issued and revoked."""

    name = "dict"

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.issued: list[Lease] = []
        self.revoked: list[Lease] = []

    async def issue(self, request: CredentialRequest) -> Credential:
        if request.spec.ref not in self.values:
            raise SecretUnavailable(f"secret '{request.secret}': does not exist")
        lease = Lease(backend="dict", secret=request.secret, lease_id=f"lease-{len(self.issued)}")
        self.issued.append(lease)
        return Credential(SecretValue(request.secret, self.values[request.spec.ref]), lease)

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        return lease

    async def revoke(self, lease: Lease) -> None:
        self.revoked.append(lease)


class StaticProfiles:
    """Registered profiles, and the names (profiles or missions) revoked."""

    def __init__(self, *profiles: Profile, revoked: set[str] | None = None) -> None:
        self.profiles = {p.name: p for p in profiles}
        self.revoked = revoked or set()

    async def revoke_mission(self, mission_id: str, reason: str, actor: str) -> None:
        self.revoked.add(mission_id)

    async def for_call(self, profile: str, mission_id: str) -> Profile:
        if profile in self.revoked or mission_id in self.revoked:
            raise ProfileNotAllowed(f"'{profile}' is revoked")
        try:
            return self.profiles[profile]
        except KeyError:
            raise ProfileNotAllowed(f"profile '{profile}' is not registered") from None


class StaticRedactionKey:
    """The worker-wide redaction key, given in code; workers read theirs from
    OpenBao (sealed.identity.openbao.keys.VaultRedactionKey)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    async def master(self) -> bytes:
        return self._key


class StaticApproverKeys:
    """Approvers' public keys (`ed25519:<base64>`, sealed.approvals.keys.public_text)
    by name; workers read theirs from OpenBao
    (sealed.identity.openbao.stores.VaultApproverKeys). `unavailable` makes
    every lookup fail as an unreachable registry does."""

    def __init__(self, keys: dict[str, str] | None = None, *, unavailable: bool = False) -> None:
        self.keys = dict(keys or {})
        self.unavailable = unavailable
        self.asked: list[list[str]] = []

    async def public_keys(self, names: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(names))
        if self.unavailable:
            raise SecretUnavailable("approver keys: backend unreachable")
        missing = [name for name in names if name not in self.keys]
        if missing:
            raise ApproverUnknown(f"approver '{missing[0]}' has no registered key")
        return {name: self.keys[name] for name in names}
