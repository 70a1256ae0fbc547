"""The directive activities: the workflow decides (deterministically); these
write what fired to the audit log, and carry out an abort's revocation: the
mission recorded revoked at the backend (every worker refuses its calls) and
every credential this worker still holds for it revoked, before the mission
ends."""

from __future__ import annotations

import asyncio

import structlog
from temporalio import activity

from sealed.audit import AuditEvent, AuditLog
from sealed.contract import DIRECTIVE_ABORT, DIRECTIVE_EVENT
from sealed.directives.events import DirectiveAbort, DirectiveEvent
from sealed.identity.broker import CredentialBroker
from sealed.identity.profiles import ProfileSource

log = structlog.get_logger("sealed.directives")


class DirectiveActivities:
    def __init__(
        self, audit: AuditLog, profiles: ProfileSource, credentials: CredentialBroker
    ) -> None:
        self._audit = audit
        self._profiles = profiles
        self._credentials = credentials

    @activity.defn(name=DIRECTIVE_EVENT)
    async def directive_event(self, event: DirectiveEvent) -> None:
        await asyncio.to_thread(self._audit.record, event.audit())

    @activity.defn(name=DIRECTIVE_ABORT)
    async def directive_abort(self, request: DirectiveAbort) -> list[str]:
        """Revokes the mission and records why; the lease ids it revoked."""
        violation = request.violation
        actor = f"directive:{violation.policy}"
        reason = f"directive {violation.policy}: {violation.reason}"
        # Both at once: the record stops every other worker, the sweep ends
        # what this one holds.
        _, revoked = await asyncio.gather(
            self._profiles.revoke_mission(request.mission_id, reason, actor),
            self._credentials.revoke_mission(request.mission_id),
        )
        events = [event.audit() for event in request.events]
        revoked_count: dict[str, str | int | float | bool | None] = {
            "credentials_revoked": len(revoked)
        }
        events += [
            AuditEvent(
                kind=kind,
                mission_id=request.mission_id,
                profile=request.profile,
                reason=reason,
                actor=actor,
                details=details,
            )
            for kind, details in (("revocation.added", revoked_count), ("mission.aborted", {}))
        ]
        await asyncio.to_thread(self._audit.record_many, events)
        log.warning(
            "mission aborted by a directive",
            mission_id=request.mission_id,
            policy=violation.policy,
            tool=violation.tool,
            call_id=violation.call_id,
            credentials_revoked=len(revoked),
        )
        return revoked
