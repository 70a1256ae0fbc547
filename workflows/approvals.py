"""The mission's approval desk (Sealed IV), inside the workflow: it opens a
request for each call the policy holds, counts signed decisions with the one
pure check, and waits durably for quorum, a denial or the timeout (then
refuses, escalates once, or aborts the mission). Everything it decides is
deterministic; what it writes (audit, notification) goes through activities."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from sealed.approvals import keys
    from sealed.approvals.decision import Decision, DecisionRejected, check
    from sealed.approvals.events import ApprovalEvent, ApprovalEventKind
    from sealed.approvals.policy import CallPolicy
    from sealed.approvals.request import ApprovalRequest, ApprovalState, argument_digest
    from sealed.contract import APPROVAL_EVENT, NOTIFY_APPROVAL
    from sealed.models import ToolCall

# Audit records are retried until written; a notification a few times, then
# the mission waits all the same (the request is in `sealed pending`).
AUDIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


# workflow.patched ids: histories recorded while decisions were ordinary
# activities, then local ones, replay on those paths.
_LOCAL_DECISION_RECORD = "local-decision-record"
ONE_STEP_RELEASE = "approval-release-in-one-step"


class ApprovalTimedOut(Exception):
    """No decision in time, and the policy says the mission aborts."""


def refusal(state: ApprovalState) -> str:
    """What the model is told of a call that was not approved."""
    if state.status == "denied":
        why = f": {state.reason}" if state.reason else ""
        return f"tool refused: {state.decided_by} denied this call{why}"
    return f"tool refused: no approval came in time ({state.request.on_timeout})"


class ApprovalDesk:
    def __init__(self, mission_id: str, submitter: str | None) -> None:
        self._mission_id = mission_id
        self._submitter = submitter
        # How calls are held, as the latest model turn found it at the backend.
        self.policy: CallPolicy | None = None
        self.states: dict[str, ApprovalState] = {}
        self._used: set[str] = set()
        # Decisions still being written to the audit log: a call is released
        # only once its decision is on record.
        self._recording = 0
        # The decisions that released a call, by request: its activity writes
        # them before anything else it does; here until it has come back.
        self._unconfirmed: dict[str, ApprovalEvent] = {}
        # The workflow task that releases an approved call schedules it and
        # does nothing else: the decision is written by the call's activity,
        # and the request's timer is cancelled once the call is back (each
        # extra command costs that task milliseconds at the server). Set by
        # the workflow as it starts, workflow.patched(ONE_STEP_RELEASE): asked
        # at the first approval, the patch's own marker and search attribute
        # would land in that very task.
        self.one_step_release = False
        self._timers: dict[str, asyncio.Task[None]] = {}

    # --- requests ------------------------------------------------------------------

    def holds(self, call: ToolCall) -> bool:
        policy = self.policy
        return policy is not None and policy.approvals.needs_approval(
            call.name, policy.privilege(call.name), call.arguments
        )

    def can_hold(self) -> bool:
        """A call can wait for a decision: somebody is named to give it."""
        return self.policy is not None and bool(self.policy.approvals.approvers)

    def open(self, call: ToolCall, held_by: str | None = None) -> ApprovalRequest:
        assert self.policy is not None  # holds() said so
        approvals = self.policy.approvals
        privilege = self.policy.privilege(call.name)
        request = ApprovalRequest(
            id=f"approval-{call.id}",
            mission_id=self._mission_id,
            call_id=call.id,
            tool=call.name,
            privilege=privilege,
            arguments=call.arguments,
            digest=argument_digest(self._mission_id, call.id, call.name, call.arguments),
            approvers=approvals.approvers,
            quorum=approvals.quorum_for(privilege),
            deadline=workflow.now() + approvals.timeout,
            on_timeout=approvals.on_timeout,
            submitter=self._submitter,
            held_by=held_by,
        )
        self.states[request.id] = ApprovalState(request=request)
        return request

    async def wait(self, request_id: str) -> ApprovalState:
        """The request recorded and announced, then until it is decided or times
        out (then, per the policy: refused, escalated once, or ApprovalTimedOut).
        No credential exists for the call meanwhile."""
        assert self.policy is not None
        approvals = self.policy.approvals
        state = self.states[request_id]
        await self._asked(state.request)
        decided = await self._decided(state, approvals.timeout)
        if not decided and approvals.on_timeout == "escalate":
            within = approvals.escalation_timeout or approvals.timeout
            state.request = state.request.model_copy(
                update={
                    "approvers": approvals.escalate_to,
                    "escalated": True,
                    "deadline": workflow.now() + within,
                }
            )
            state.approved_by, state.arguments = [], None
            await self._record("approval.escalated", request_id, state.request)
            await self._asked(state.request)
            decided = await self._decided(state, within)
        if not decided:
            state.status = "timed_out"
            await self._record(
                "approval.timed_out", request_id, state.request, reason=approvals.on_timeout
            )
            if approvals.on_timeout == "abort":
                raise ApprovalTimedOut(
                    f"no approval for {state.request.tool} ({state.request.call_id}) in time"
                )
        await workflow.wait_condition(lambda: self._recording == 0)
        return state

    def close(self) -> None:
        """The mission ended: whatever still waits never will."""
        for state in self.states.values():
            if state.status == "pending":
                state.status = "aborted"

    # --- decisions -----------------------------------------------------------------

    def check(self, decision: Decision) -> None:
        check(
            decision,
            self.states.get(decision.request_id),
            mission_id=self._mission_id,
            approver_keys=self.policy.approver_keys if self.policy else {},
            now=workflow.now(),
            used=self._used,
        )

    async def signalled(self, decision: Decision, sent_as: str) -> None:
        """A signal cannot answer: one that does not count changes nothing and
        is recorded, with its reason, as a rejected decision."""
        try:
            if decision.decision != sent_as:
                raise DecisionRejected(f"a '{decision.decision}' decision sent as '{sent_as}'")
            self.check(decision)
        except DecisionRejected as exc:
            state = self.states.get(decision.request_id)
            await self._record(
                "approval.rejected",
                decision.request_id,
                state.request if state else None,
                approver=decision.approver,
                outcome="rejected",
                reason=str(exc),
            )
            return
        await self.count(decision)

    async def count(self, decision: Decision) -> ApprovalState:
        """A checked decision counts: the state changes at once (before any
        await, so the next decision is checked against it), then it is audited."""
        state = self.states[decision.request_id]
        self._used.add(decision.used_id)
        if decision.decision == "deny":
            state.status, state.decided_by = "denied", decision.approver
            state.reason = decision.reason
        else:
            state.approved_by.append(decision.approver)
            state.arguments = decision.arguments
            if len(state.approved_by) >= state.request.quorum:
                state.status, state.decided_by = "approved", decision.approver
        public = self.policy.approver_keys.get(decision.approver) if self.policy else None
        event = ApprovalEvent(
            kind="approval.decided",
            mission_id=self._mission_id,
            request_id=state.request.id,
            request=state.request,
            approver=decision.approver,
            key=keys.fingerprint(public) if public else None,
            decision=decision.decision,
            decision_id=decision.used_id,
            reason=decision.reason or None,
        )
        if state.status == "approved" and self.one_step_release:
            # The call's own activity writes it, first: a record on the way to
            # the call costs no workflow task and no trip through a task queue.
            self._unconfirmed[state.request.id] = event
            return state
        self._recording += 1
        try:
            await self._write(event)
        finally:
            self._recording -= 1
        return state

    def released(self, request_id: str) -> list[ApprovalEvent]:
        """What the released call must write before it does anything else."""
        event = self._unconfirmed.get(request_id)
        return [event] if event else []

    def confirmed(self, request_id: str) -> None:
        """The call came back: an attempt of it wrote its decision."""
        self._unconfirmed.pop(request_id, None)
        self._stop_timer(request_id)

    def _stop_timer(self, request_id: str) -> None:
        timer = self._timers.pop(request_id, None)
        if timer is not None:
            timer.cancel()

    async def flush(self) -> None:
        """Decisions whose call ended without saying it wrote them (cancelled,
        timed out, or its record failed): written here, so that none is lost;
        one written twice carries the same decision id."""
        unconfirmed, self._unconfirmed = self._unconfirmed, {}
        for request_id, event in unconfirmed.items():
            self._stop_timer(request_id)
            await self._write(event)

    # --- waiting and writing ---------------------------------------------------------

    async def _decided(self, state: ApprovalState, within: timedelta) -> bool:
        summary = f"approval {state.request.id}"
        if not self.one_step_release:
            try:
                await workflow.wait_condition(
                    lambda: state.status != "pending", timeout=within, timeout_summary=summary
                )
            except TimeoutError:
                return False
            return True
        # The timer outlives the decision: cancelled once the call is back
        # (or when the request is refused), never in the releasing task.
        timer = asyncio.create_task(workflow.sleep(within, summary=summary))
        await workflow.wait_condition(lambda: state.status != "pending" or timer.done())
        if state.status == "pending":
            return False
        self._timers[state.request.id] = timer
        if state.status != "approved":
            self._stop_timer(state.request.id)
        return True

    async def _asked(self, request: ApprovalRequest) -> None:
        await self._record("approval.requested", request.id, request)
        # Told in the background: the decision may arrive meanwhile.
        asyncio.create_task(self._notify(request))  # noqa: RUF006 (the workflow holds it)

    async def _notify(self, request: ApprovalRequest) -> None:
        try:
            await workflow.execute_activity(
                NOTIFY_APPROVAL,
                request,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as exc:
            await self._record(
                "approval.notified", request.id, request, outcome="error", reason=str(exc.cause)
            )

    async def _record(
        self,
        kind: ApprovalEventKind,
        request_id: str,
        request: ApprovalRequest | None,
        **fields: str | None,
    ) -> None:
        await self._write(
            ApprovalEvent(
                kind=kind,
                mission_id=self._mission_id,
                request_id=request_id,
                request=request,
                **fields,
            )
        )

    @staticmethod
    async def _write(event: ApprovalEvent) -> None:
        if event.kind == "approval.decided" and workflow.patched(_LOCAL_DECISION_RECORD):
            # The call waits for this record: written by the worker running this
            # workflow task, it costs no trip through the task queue.
            await workflow.execute_local_activity(
                APPROVAL_EVENT,
                event,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=AUDIT_RETRY,
            )
            return
        await workflow.execute_activity(
            APPROVAL_EVENT,
            event,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=AUDIT_RETRY,
        )
