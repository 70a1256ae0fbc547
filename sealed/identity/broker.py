"""The credential broker: the one path from a tool call to its secrets.

Inside the tool activity attempt, for one call: refuse what the profile does
not grant the tool (before any backend call), issue each granted secret from
its backend, hand the tool SecretValues, and revoke every one of them when the
call ends, whatever the outcome. Every step is an audit event (never a value)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import structlog

from sealed.audit import AuditEvent, AuditKind, AuditLog
from sealed.identity.backend import (
    Credential,
    CredentialBackend,
    CredentialRequest,
    Lease,
    SecretSpec,
    SecretUnavailable,
    SecretValue,
)
from sealed.identity.profiles import Profile

log = structlog.get_logger("sealed.credentials")

# Stands for a secret the profile never declared: refused before any backend.
_UNDECLARED = SecretSpec(backend="undeclared", ref="-")


class CredentialRefused(Exception):
    """The profile does not grant this tool a secret it asked for: the tool does
    not run, and the model is told so."""


class CredentialBroker:
    def __init__(self, backends: Mapping[str, CredentialBackend], audit: AuditLog) -> None:
        self._backends = backends
        self._audit = audit
        # What this process issued and has not revoked yet, by mission: a
        # mission's revocation ends them at once. And the missions revoked
        # here, refused before any backend is asked.
        self._live: dict[str, dict[str, tuple[CredentialBackend, Lease]]] = {}
        self._revoked: set[str] = set()

    async def revoke_mission(self, mission_id: str) -> list[str]:
        """No credential is issued to the mission from now on (by this process;
        the mission's revocation record stops the others), and every live one
        is revoked at its backend. Returns their lease ids; raises if one
        could not be revoked (the caller retries)."""
        self._revoked.add(mission_id)
        live = self._live.get(mission_id, {})
        leases = list(live.items())
        await asyncio.gather(*(backend.revoke(lease) for _, (backend, lease) in leases))
        for lease_id, _ in leases:
            live.pop(lease_id, None)
        return [lease_id for lease_id, _ in leases]

    @staticmethod
    def _event(kind: AuditKind, request: CredentialRequest, **fields: str | None) -> AuditEvent:
        return AuditEvent(
            kind=kind,
            mission_id=request.mission_id,
            profile=request.profile,
            tool=request.tool,
            secret=request.secret,
            details={"approval": request.approval_id} if request.approval_id else {},
            **fields,
        )

    async def _record(
        self, kind: AuditKind, request: CredentialRequest, **fields: str | None
    ) -> None:
        await asyncio.to_thread(self._audit.record, self._event(kind, request, **fields))

    @contextlib.asynccontextmanager
    async def credentials(
        self,
        *,
        profile: Profile,
        tool: str,
        secrets: tuple[str, ...],
        mission_id: str,
        call_id: str,
        ttl: timedelta,
        approval_id: str | None = None,
    ) -> AsyncIterator[dict[str, SecretValue]]:
        requests = [
            CredentialRequest(
                mission_id=mission_id,
                profile=profile.name,
                tool=tool,
                call_id=call_id,
                secret=name,
                spec=profile.secrets.get(name, _UNDECLARED),
                ttl=ttl,
                approval_id=approval_id,
            )
            for name in secrets
        ]
        refused = [r for r in requests if r.secret not in profile.granted(tool)]
        for request in refused:
            await self._record(
                "credential.refused",
                request,
                outcome="refused",
                reason=f"profile '{profile.name}' does not grant it to '{tool}'",
            )
        if refused:
            names = ", ".join(r.secret for r in refused)
            raise CredentialRefused(
                f"profile '{profile.name}' does not grant '{tool}' the secret(s): {names}"
            )

        issued: list[tuple[CredentialRequest, CredentialBackend, Credential]] = []
        outcome = "error"
        live = self._live.setdefault(mission_id, {})
        try:
            for request in requests:
                if mission_id in self._revoked:
                    raise SecretUnavailable(f"mission '{mission_id}' is revoked")
                backend = self._backends.get(request.spec.backend)
                if backend is None:
                    raise SecretUnavailable(
                        f"secret '{request.secret}': no backend '{request.spec.backend}' "
                        "is configured on this worker"
                    )
                try:
                    credential = await backend.issue(request)
                except SecretUnavailable as exc:
                    await self._record(
                        "credential.refused", request, outcome="error", reason=str(exc)
                    )
                    raise
                issued.append((request, backend, credential))
                live[credential.lease.lease_id] = (backend, credential.lease)
                await self._record("credential.issued", request, lease_id=credential.lease.lease_id)
            yield {r.secret: c.value for r, _, c in issued}
            outcome = "ok"
        finally:
            # What happened after the issue is written in one batch (one fsync):
            # the "issued" records are already on disk before the tool ran.
            events = []
            for request, backend, credential in reversed(issued):
                lease = credential.lease.lease_id
                events.append(
                    self._event("credential.used", request, lease_id=lease, outcome=outcome)
                )
                if lease not in live:
                    continue  # the mission's revocation ended it already
                try:
                    await asyncio.shield(backend.revoke(credential.lease))
                except Exception as exc:  # its TTL still ends it; say so loudly
                    log.error(
                        "revoke failed", secret=request.secret, lease_id=lease, error=str(exc)
                    )
                    events.append(
                        self._event(
                            "credential.revoked",
                            request,
                            lease_id=lease,
                            outcome="error",
                            reason=str(exc),
                        )
                    )
                else:
                    # Kept in `live` when it failed: the mission's revocation tries again.
                    live.pop(lease, None)
                    events.append(self._event("credential.revoked", request, lease_id=lease))
            if not live:
                self._live.pop(mission_id, None)
            if events:
                await asyncio.to_thread(self._audit.record_many, events)
