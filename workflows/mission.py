"""MissionWorkflow: the deterministic agent loop. It holds the conversation,
counts against the limits and decides what runs next; every side effect (the
model, the tools, the backends) happens in an activity."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

from sealed.workflows.approvals import (
    ONE_STEP_RELEASE,
    ApprovalDesk,
    ApprovalTimedOut,
    refusal,
)
from sealed.workflows.directives import DirectiveAborts, DirectiveGuard

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from sealed.approvals.decision import Decision, DecisionRejected
    from sealed.approvals.request import ApprovalState
    from sealed.contract import (
        APPROVALS_QUERY,
        APPROVE_SIGNAL,
        DECIDE_UPDATE,
        DECISION_NOT_RECORDED,
        DENY_SIGNAL,
        MODEL_TURN,
        NON_RETRYABLE_MODEL_ERRORS,
        NON_RETRYABLE_TOOL_ERRORS,
        RUN_TOOL,
        SA_MISSION,
        SA_PROFILE,
        SA_STATUS,
    )
    from sealed.directives.engine import Verdict
    from sealed.directives.events import Violation
    from sealed.directives.policies import DirectiveError
    from sealed.models import (
        AbortRequest,
        Fingerprint,
        Message,
        MissionInput,
        MissionProgress,
        MissionResult,
        MissionStatus,
        ModelTurnInput,
        ModelTurnOutput,
        OriginalPrompt,
        ToolCall,
        ToolCallInput,
        ToolCallResult,
        TurnUsage,
    )

MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=NON_RETRYABLE_MODEL_ERRORS,
)
# Side-effecting tools are retried too: they carry an idempotency key (mission
# id + call id) so the service applies a retried call once.
TOOL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=4,
    non_retryable_error_types=NON_RETRYABLE_TOOL_ERRORS,
)
# Activities heartbeat; a dead worker is noticed after this long, and an
# abort reaches a running activity within ~0.8 of it (the SDK's throttle).
HEARTBEAT_TIMEOUT = timedelta(seconds=5)
# An abort returns only once the in-flight activity has really stopped.
CANCELLATION = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
ResultT = TypeVar("ResultT", bound=BaseModel)


async def _activity(
    name: str, argument: BaseModel, result_type: type[ResultT], retry: RetryPolicy
) -> ResultT:
    """Every activity of a mission runs with these options: one attempt may take
    five minutes, heartbeats (so a dead worker or an abort is noticed within
    seconds), and an abort waits until the attempt has really stopped."""
    result: ResultT = await workflow.execute_activity(
        name,
        argument,
        result_type=result_type,
        start_to_close_timeout=timedelta(minutes=5),
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        cancellation_type=CANCELLATION,
        retry_policy=retry,
    )
    return result


class _LimitExceeded(Exception):
    pass


class _PromptMismatch(Exception):
    pass


# workflow.patched id: histories recorded before the workflow checked the
# digest itself (some carry none at all) replay on the old path.
_VERIFY_PROMPT = "verify-prompt-digest"


@workflow.defn(name="MissionWorkflow")
class MissionWorkflow:
    @workflow.init
    def __init__(self, input: MissionInput) -> None:
        self._input = input
        self._status = MissionStatus.RUNNING
        # What the SealedStatus search attribute says (written at start).
        self._indexed = self._status
        self._phase = "starting"
        self._turn = 0
        self._tool_calls = 0
        self._pending: list[str] = []
        self._conversation: list[Message] = []
        # What each model turn used, as its provider reported it.
        self._usage: list[TurnUsage] = []
        # Fingerprints of every value issued to the mission, so that every later
        # activity redacts them without holding them (sealed.redaction.known).
        self._known: list[Fingerprint] = []
        # What the model must be told, by the workflow's own reckoning: every turn's
        # answer is checked against it, never taken from an activity's result.
        self._expected_digest = OriginalPrompt.of(input.spec).digest()
        self._prompt_digest: str | None = None
        self._abort_reason: str | None = None
        self._abort_waits = True
        self._reason: str | None = None
        self._answer: str | None = None
        self._stopping = False
        # Sealed IV: every approval request of the mission and its decisions.
        self._desk = ApprovalDesk(input.mission_id, input.submitter)
        # Sealed V: the directives, evaluated on every call and result.
        self._guard = DirectiveGuard(input)

    @workflow.run
    async def run(self, input: MissionInput) -> MissionResult:
        self._desk.one_step_release = workflow.patched(ONE_STEP_RELEASE)
        workflow.upsert_search_attributes(
            [
                SA_MISSION.value_set(input.spec.name),
                SA_PROFILE.value_set(input.spec.profile),
                SA_STATUS.value_set(self._status.value),
            ]
        )
        loop = asyncio.create_task(self._agent_loop())
        try:
            await workflow.wait_condition(
                lambda: loop.done() or self._abort_reason is not None,
                timeout=input.spec.limits.deadline,
                timeout_summary="mission deadline",
            )
        except TimeoutError:
            reason = f"deadline of {input.spec.limits.deadline} passed"
            return await self._stop(loop, MissionStatus.LIMIT_EXCEEDED, reason)
        if not loop.done() and self._abort_reason is not None:
            return await self._stop(
                loop, MissionStatus.ABORTED, self._abort_reason, wait=self._abort_waits
            )
        return loop.result()

    # --- queries and updates -------------------------------------------------

    @workflow.query
    def status(self) -> MissionProgress:
        return MissionProgress(
            mission_id=self._input.mission_id,
            status=self._status,
            phase=self._phase,
            turn=self._turn,
            tool_calls=self._tool_calls,
            pending=list(self._pending),
            reason=self._reason,
            prompt_digest=self._prompt_digest,
            usage=list(self._usage),
        )

    @workflow.query
    def transcript(self) -> list[Message]:
        return list(self._conversation)

    @workflow.update
    async def abort(self, request: AbortRequest) -> MissionProgress:
        self._abort_reason = request.reason
        self._abort_waits = request.wait_for_cancellation
        await workflow.wait_condition(lambda: self._status.finished)
        return self.status()

    @abort.validator
    def _validate_abort(self, request: AbortRequest) -> None:
        if self._status.finished:
            raise ValueError(f"mission already {self._status.value}")

    # --- approvals (Sealed IV) -------------------------------------------------

    @workflow.query(name=APPROVALS_QUERY)
    def approvals(self) -> list[ApprovalState]:
        return list(self._desk.states.values())

    @workflow.signal(name=APPROVE_SIGNAL)
    async def approve(self, decision: Decision) -> None:
        await self._desk.signalled(decision, "approve")

    @workflow.signal(name=DENY_SIGNAL)
    async def deny(self, decision: Decision) -> None:
        await self._desk.signalled(decision, "deny")

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, decision: Decision) -> str:
        """The same decision, for a caller who wants the answer: a decision that
        does not count is refused by the validator, before it reaches history."""
        try:
            self._desk.check(decision)  # again: another decision may have landed since
        except DecisionRejected as exc:
            raise ApplicationError(str(exc), type="DecisionRejected", non_retryable=True) from None
        state = await self._desk.count(decision)
        return state.status

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        self._desk.check(decision)

    # --- the loop ------------------------------------------------------------

    async def _agent_loop(self) -> MissionResult:
        spec = self._input.spec
        try:
            while True:
                if self._turn >= spec.limits.max_turns:
                    raise _LimitExceeded(
                        f"max_turns={spec.limits.max_turns} reached without a final answer"
                    )
                self._turn += 1
                reply = await self._model_turn()
                if reply.prompt_digest != self._expected_digest and workflow.patched(
                    _VERIFY_PROMPT
                ):
                    raise _PromptMismatch(
                        f"prompt.tampered: turn {self._turn} answered for prompt "
                        f"{reply.prompt_digest}, the mission's is {self._expected_digest}"
                    )
                self._prompt_digest = self._prompt_digest or reply.prompt_digest
                if reply.usage is not None:
                    self._usage.append(
                        TurnUsage(
                            turn=self._turn,
                            input_tokens=reply.usage.input_tokens,
                            output_tokens=reply.usage.output_tokens,
                            cost_microusd=reply.cost_microusd,
                        )
                    )
                self._desk.policy = reply.policy or self._desk.policy
                self._guard.tracker.adopt(reply.directives)
                judged = self._guard.turned(reply, spec.model.name, self._turn)
                self._remember(reply.issued)
                self._conversation.append(
                    Message(role="assistant", content=reply.content, tool_calls=reply.tool_calls)
                )
                if judged is not None and await self._turn_refused(*judged, reply):
                    continue
                if reply.is_final:
                    self._answer = reply.content
                    return self._finish(MissionStatus.COMPLETED, None)
                for call in reply.tool_calls:
                    if self._tool_calls >= spec.limits.max_tool_calls:
                        raise _LimitExceeded(f"max_tool_calls={spec.limits.max_tool_calls} reached")
                    self._tool_calls += 1
                    result = await self._tool_call(call)
                    self._remember(result.issued)
                    self._told(call, result)
        except _LimitExceeded as exc:
            return self._finish(MissionStatus.LIMIT_EXCEEDED, str(exc))
        except _PromptMismatch as exc:
            return self._finish(MissionStatus.FAILED, str(exc))
        except ApprovalTimedOut as exc:
            return self._finish(MissionStatus.ABORTED, str(exc))
        except DirectiveAborts as stop:
            self._set_phase(f"aborting: directive {stop.violation.policy}", [])
            await self._guard.abort(stop)
            return self._finish(MissionStatus.ABORTED, str(stop), stop.violation)
        except DirectiveError as exc:
            return self._finish(MissionStatus.FAILED, f"directives: {exc}")
        except ActivityError as exc:
            if self._stopping:
                raise
            cause = exc.cause or exc
            return self._finish(MissionStatus.FAILED, f"{self._phase}: {cause}")

    async def _model_turn(self) -> ModelTurnOutput:
        spec = self._input.spec
        self._set_phase(f"model turn {self._turn}", [f"model:{spec.model.name}"])
        return await _activity(
            MODEL_TURN,
            ModelTurnInput(
                mission_id=self._input.mission_id,
                profile=spec.profile,
                turn=self._turn,
                model=spec.model,
                # The original instructions travel once; after that only their
                # digest does, and the activity re-injects the verified original.
                original=None if self._prompt_digest else OriginalPrompt.of(spec),
                prompt_digest=self._expected_digest,
                conversation=self._conversation,
                tools=spec.tools,
                known=self._known,
                approvals=spec.approvals,
                directives=spec.directives,
                directives_digest=self._guard.digest,
            ),
            ModelTurnOutput,
            MODEL_RETRY,
        )

    async def _tool_call(self, call: ToolCall) -> ToolCallResult:
        if call.name not in self._input.spec.tools:
            # Refused here, deterministically: a tool the mission does not list
            # never reaches a worker.
            allowed = ", ".join(self._input.spec.tools) or "none"
            return self._refused(
                call,
                f"tool error: '{call.name}' is not available to this mission "
                f"(available: {allowed})",
            )
        checked = self._guard.before(call)
        verdict, context = checked if checked is not None else (None, None)
        held = verdict is not None and verdict.action == "require_approval"
        if verdict is not None:
            refused = await self._stopped(verdict, call, unheld=held and not self._desk.can_hold())
            if refused is not None:
                return refused
            await self._guard.record(verdict, call, self._conversation, "held" if held else None)
        approval: ApprovalState | None = None
        if held or self._desk.holds(call):
            firing = verdict.fired[0] if held and verdict is not None else None
            held_by = f"directive {firing.policy}: {firing.reason}" if firing else None
            request = self._desk.open(call, held_by)
            self._set_status(MissionStatus.AWAITING_APPROVAL)
            self._set_phase(f"awaiting approval for {call.name}", [f"approval:{request.id}"])
            approval = await self._desk.wait(request.id)
            # Released in one step, the call's task writes no search attribute
            # (one costs it ~5 ms at the dev server): the index says running
            # once the call is back, the status query at once.
            released = approval.status == "approved" and self._desk.one_step_release
            self._set_status(MissionStatus.RUNNING, index=not released)
            if approval.status != "approved":
                return self._refused(call, refusal(approval))
            if approval.arguments is not None:
                call = call.model_copy(update={"arguments": approval.arguments})
                # An approver's edit is judged as the model's call was.
                checked = self._guard.before(call)
                verdict, context = checked if checked is not None else (None, None)
                if verdict is not None and verdict.action in ("abort", "deny_call"):
                    await self._desk.flush()  # the decision is on record all the same
                    refused = await self._stopped(verdict, call)
                    assert refused is not None  # a deny_call refuses
                    return refused
        self._set_phase(f"tool call {call.name}", [f"tool:{call.name}#{call.id}"])
        approval_id = approval.request.id if approval else None
        try:
            result = await _activity(
                RUN_TOOL,
                ToolCallInput(
                    mission_id=self._input.mission_id,
                    profile=self._input.spec.profile,
                    call=call,
                    mission_deadline=workflow.info().workflow_start_time
                    + self._input.spec.limits.deadline,
                    known=self._known,
                    approval_id=approval_id,
                    approvals=self._input.spec.approvals,
                    decisions=self._desk.released(approval_id) if approval_id else [],
                ),
                ToolCallResult,
                TOOL_RETRY,
            )
        except ActivityError as exc:
            failure = exc.cause
            # An attempt that failed in its own code got past writing the
            # decision, its first step; any other end leaves that unknown.
            if not isinstance(failure, ApplicationError) or failure.type == DECISION_NOT_RECORDED:
                await self._desk.flush()
            raise
        if approval_id:
            self._desk.confirmed(approval_id)
            self._set_status(MissionStatus.RUNNING)  # now in the index too
        if approval is not None and approval.arguments is not None:
            # The model is told its call ran with what the approvers chose.
            edited = json.dumps(approval.arguments, sort_keys=True)
            note = f"(an approver changed the arguments to {edited})\n"
            result = result.model_copy(update={"output": note + result.output})
        after = self._guard.after(call, result, context)
        if after is not None:
            if after.action == "abort":
                raise self._guard.aborts(after, call, self._conversation)
            withheld = after.action is not None
            await self._guard.record(
                after, call, self._conversation, "withheld" if withheld else None
            )
            if withheld:
                firing = after.fired[0]
                output = f"tool output withheld by directive {firing.policy}: {firing.reason}"
                result = result.model_copy(update={"output": output, "is_error": True})
        return result

    async def _turn_refused(self, verdict: Verdict, turn: ToolCall, reply: ModelTurnOutput) -> bool:
        """What fired on a model's turn: an abort stops the mission; a refusal
        sets its reply aside (its calls do not run, its answer is not taken)
        and tells the model why."""
        if verdict.action == "abort":
            raise self._guard.aborts(verdict, turn, self._conversation)
        refused = verdict.action == "deny_call"
        await self._guard.record(verdict, turn, self._conversation, "denied" if refused else None)
        if not refused:
            return False
        firing = verdict.fired[0]
        if reply.is_final:
            why = f"answer refused by directive {firing.policy}: {firing.reason}"
            self._conversation.append(Message(role="user", content=why))
        for call in reply.tool_calls:
            self._told(call, self._refused(call, self._directive_refusal(verdict, held=False)))
        return True

    def _told(self, call: ToolCall, result: ToolCallResult) -> None:
        """A call's result (or the runtime's refusal) as the model reads it."""
        self._conversation.append(
            Message(
                role="tool",
                content=result.output,
                tool_call_id=call.id,
                name=call.name,
                is_error=result.is_error,
                flags=result.flags,
            )
        )

    async def _stopped(
        self, verdict: Verdict, call: ToolCall, *, unheld: bool = False
    ) -> ToolCallResult | None:
        """A call's verdict carried out if it stops the call: abort raises, a
        refusal (or a hold nobody can decide, `unheld`) is recorded and the
        model's answer returned; None when the call goes on."""
        if verdict.action == "abort":
            raise self._guard.aborts(verdict, call, self._conversation)
        if verdict.action != "deny_call" and not unheld:
            return None
        await self._guard.record(verdict, call, self._conversation, "denied")
        return self._refused(call, self._directive_refusal(verdict, held=unheld))

    def _refused(self, call: ToolCall, why: str) -> ToolCallResult:
        """A call the runtime did not run: the model is told why."""
        self._guard.tracker.trace.refused()
        return ToolCallResult(call_id=call.id, name=call.name, output=why, is_error=True)

    @staticmethod
    def _directive_refusal(verdict: Verdict, held: bool) -> str:
        firing = verdict.fired[0]
        if held:
            return (
                f"tool refused: directive {firing.policy} requires a human approval "
                f"({firing.reason}), and this mission's profile names no approvers"
            )
        return f"tool refused by directive {firing.policy}: {firing.reason}"

    # --- state ---------------------------------------------------------------

    def _remember(self, issued: list[Fingerprint]) -> None:
        self._known += [fp for fp in issued if fp not in self._known]

    def _set_status(self, status: MissionStatus, *, index: bool = True) -> None:
        """The status the query answers, and (unless `index` is off, for now)
        the SealedStatus search attribute lists."""
        self._status = status
        if index and self._indexed != status:
            self._indexed = status
            workflow.upsert_search_attributes([SA_STATUS.value_set(status.value)])

    def _set_phase(self, phase: str, pending: list[str]) -> None:
        self._phase = phase
        self._pending = pending

    def _finish(
        self, status: MissionStatus, reason: str | None, violation: Violation | None = None
    ) -> MissionResult:
        self._status = self._indexed = status
        self._reason = reason
        self._set_phase("finished", [])
        self._desk.close()
        workflow.upsert_search_attributes([SA_STATUS.value_set(status.value)])
        return MissionResult(
            mission_id=self._input.mission_id,
            status=status,
            answer=self._answer,
            reason=reason,
            turns=self._turn,
            tool_calls=self._tool_calls,
            violation=violation,
        )

    async def _stop(
        self,
        loop: asyncio.Task[MissionResult],
        status: MissionStatus,
        reason: str,
        *,
        wait: bool = True,
    ) -> MissionResult:
        """Cancel what is in flight (activities heartbeat, so they see it) and
        end the mission with `status`, once it has stopped unless `wait` is off
        (then the call learns of it from its next heartbeat)."""
        self._stopping = True
        loop.cancel()
        if wait:
            with contextlib.suppress(asyncio.CancelledError, ActivityError):
                await loop
        await self._desk.flush()
        return self._finish(status, reason)
