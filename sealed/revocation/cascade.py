"""The revocation cascade: the record, the backend (every credential of the
profile or mission refused from now on), the running missions (aborted, found
by search attribute) and the audit trail."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.service import RPCError

from sealed import missions
from sealed.audit import AuditEvent, AuditKind, AuditLog
from sealed.contract import SA_PROFILE, SA_STATUS, WORKFLOW_NAME
from sealed.identity.aws import AwsSts
from sealed.identity.openbao.admin import Revocation, RevocationKind, VaultAdmin
from sealed.identity.openbao.stores import PROFILE_CACHE_SECONDS
from sealed.models import MissionStatus

# Sessions a worker may still issue after the record (its cached view of
# revocations), and the clocks of this host and AWS's disagreeing.
STS_CUTOFF_MARGIN = timedelta(seconds=PROFILE_CACHE_SECONDS + 60)


def _event(what: AuditKind, kind: RevocationKind, name: str, reason: str, actor: str) -> AuditEvent:
    return AuditEvent(
        kind=what,
        profile=name if kind == "profile" else None,
        mission_id=name if kind == "mission" else None,
        reason=reason,
        actor=actor,
    )


class RevocationReport(BaseModel):
    revocation: Revocation
    credentials_killed: int | None = None
    missions_aborted: list[str]
    seconds: float


class Revoker:
    def __init__(
        self, admin: VaultAdmin, client: Client, audit: AuditLog, sts: AwsSts | None = None
    ) -> None:
        self._admin = admin
        self._client = client
        self._audit = audit
        self._sts = sts

    async def _record(self, event: AuditEvent) -> None:
        await asyncio.to_thread(self._audit.record, event)

    async def _abort_all(
        self, mission_ids: list[str], reason: str, actor: str, *, wait: bool
    ) -> list[str]:
        async def one(mission_id: str) -> str | None:
            try:
                await missions.abort(self._client, mission_id, reason, wait_for_cancellation=wait)
            except missions.MissionNotRunning:
                return None
            await self._record(
                AuditEvent(
                    kind="mission.aborted", mission_id=mission_id, reason=reason, actor=actor
                )
            )
            return mission_id

        done = await asyncio.gather(*(one(m) for m in mission_ids))
        return [m for m in done if m is not None]

    async def _running(self, profile: str) -> list[str]:
        live = "', '".join((MissionStatus.RUNNING.value, MissionStatus.AWAITING_APPROVAL.value))
        query = (
            f"WorkflowType = '{WORKFLOW_NAME}' AND {SA_PROFILE.name} = '{profile}' "
            f"AND {SA_STATUS.name} IN ('{live}') AND ExecutionStatus = 'Running'"
        )
        return [wf.id async for wf in self._client.list_workflows(query)]

    async def revoke_profile(self, name: str, reason: str, actor: str) -> RevocationReport:
        start = time.monotonic()
        revocation = await self._add("profile", name, reason, actor)

        async def kill_credentials() -> None:
            await asyncio.to_thread(self._admin.kill_profile_credentials, name)
            await self._revoke_sts_sessions(name, revocation)

        async def abort_missions() -> list[str]:
            running = await self._running(name)
            # No need to wait for each call to stop: its credentials are dead.
            return await self._abort_all(
                running, f"profile '{name}' revoked: {reason}", actor, wait=False
            )

        # Both at once: the record already refuses every new call of the profile,
        # the backend kill refuses every credential ever issued under it.
        _, aborted = await asyncio.gather(kill_credentials(), abort_missions())
        return RevocationReport(
            revocation=revocation, missions_aborted=aborted, seconds=time.monotonic() - start
        )

    async def _sts_roles(self, profile_name: str | None) -> list[str]:
        """The STS roles a profile's secrets assume (none without an STS client)."""
        if profile_name is None or self._sts is None:
            return []
        profile = await asyncio.to_thread(self._admin.profile, profile_name)
        if profile is None:
            return []
        return [spec.ref for spec in profile.secrets.values() if spec.backend == "aws-sts"]

    async def _revoke_sts_sessions(self, name: str, revocation: Revocation) -> None:
        """STS sessions cannot be revoked one by one: AWS's way is a deny on the
        role for sessions issued before a cut-off, which AWS applies within
        minutes. The cut-off lies past the time a worker may still issue one
        (its cached view of revocations) plus clock skew."""
        for role in await self._sts_roles(name):
            assert self._sts is not None  # _sts_roles found roles only with a client
            await self._sts.revoke_sessions_before(role, revocation.at + STS_CUTOFF_MARGIN)

    async def _mission_profile(self, mission_id: str) -> str | None:
        try:
            described = await self._client.get_workflow_handle(mission_id).describe()
        except RPCError:
            return None
        return described.typed_search_attributes.get(SA_PROFILE)

    async def revoke_mission(self, mission_id: str, reason: str, actor: str) -> RevocationReport:
        start = time.monotonic()
        revocation = await self._add("mission", mission_id, reason, actor)
        # Abort first (the abort waits for the in-flight call to stop and revoke
        # its own credentials), then sweep anything of the mission still alive.
        aborted = await self._abort_all(
            [mission_id], f"mission revoked: {reason}", actor, wait=True
        )
        killed = await asyncio.to_thread(self._admin.kill_mission_credentials, mission_id)
        # Its STS sessions carry its id as a tag: denied on every role its profile uses.
        for role in await self._sts_roles(await self._mission_profile(mission_id)):
            assert self._sts is not None
            await self._sts.revoke_mission_sessions(role, mission_id)
        return RevocationReport(
            revocation=revocation,
            credentials_killed=len(killed),
            missions_aborted=aborted,
            seconds=time.monotonic() - start,
        )

    async def unrevoke(self, kind: RevocationKind, name: str, actor: str) -> Revocation | None:
        lifted = await asyncio.to_thread(self._admin.lift_revocation, kind, name)
        if lifted is not None:
            await self._record(
                _event("revocation.lifted", kind, name, f"was: {lifted.reason}", actor)
            )
        return lifted

    async def _add(self, kind: RevocationKind, name: str, reason: str, actor: str) -> Revocation:
        revocation = await asyncio.to_thread(
            self._admin.record_revocation, kind, name, reason, actor
        )
        await self._record(_event("revocation.added", kind, name, reason, actor))
        return revocation
