"""Sealed IV in the workflow, on the time-skipping test server: a held call
waits durably for signed decisions (signal or update), is bound to its
arguments and consumed once; quorum, deny, timeout (deny, abort, escalate)
and an abort while waiting; the credential is minted only after approval."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from sealed.approvals import keys
from sealed.approvals.decision import Decision, sign_decision
from sealed.approvals.request import ApprovalState
from sealed.audit import AuditEvent, AuditLog, AuditRecord
from sealed.audit.log import AuditError
from sealed.config import Settings
from sealed.contract import (
    APPROVALS_QUERY,
    APPROVE_SIGNAL,
    DECIDE_UPDATE,
    DENY_SIGNAL,
    RUN_TOOL,
    SA_STATUS,
    WORKFLOW_NAME,
)
from sealed.identity.broker import CredentialBroker
from sealed.identity.profiles import Profile
from sealed.models import (
    AbortRequest,
    MissionInput,
    MissionProgress,
    MissionResult,
    MissionSpec,
    MissionStatus,
)
from sealed.pinning import FilePromptStore
from sealed.redaction.screen import Screens
from sealed.testing import DictBackend, StaticApproverKeys, StaticProfiles, StaticRedactionKey
from sealed.tools.registry import REGISTRY, ToolContext, tool
from sealed.workers.worker import Spine, build_worker

QUEUE = "unit-approvals"
KEYS = {name: keys.new_key() for name in ("alice", "bob", "carol", "sam", "mallory")}
PUBLIC = {name: keys.public_text(key) for name, key in KEYS.items() if name != "mallory"}
RUNS: list[dict[str, Any]] = []


class Note(BaseModel):
    ticket: int
    text: str


@tool(name="test.guarded", secrets=["api_key"], privilege="high")
async def guarded(ctx: ToolContext, args: Note) -> str:
    """Writes a note (high privilege: held for approval)."""
    RUNS.append({"call": ctx.call_id, "ticket": args.ticket, "text": args.text})
    return f"noted on {args.ticket}: {args.text}"


FLAKY: list[str] = []


@tool(name="test.guarded_flaky", privilege="high")
async def guarded_flaky(ctx: ToolContext, args: Note) -> str:
    """Fails its first attempt (the activity is retried), then writes."""
    FLAKY.append(ctx.call_id)
    if len(FLAKY) == 1:
        raise RuntimeError("upstream hiccup")
    return "noted"


BLOCKING = asyncio.Event()


@tool(name="test.guarded_blocking", privilege="high")
async def guarded_blocking(ctx: ToolContext, args: Note) -> str:
    """Runs until it is cancelled."""
    BLOCKING.set()
    await asyncio.Event().wait()
    return "never"


HELD_TOOLS = ("test.guarded", "test.guarded_flaky", "test.guarded_blocking")


def profile(**approvals: Any) -> Profile:
    policy = {
        "required": [{"tools": list(HELD_TOOLS)}],
        "approvers": ["alice", "bob"],
    }
    policy.update(approvals)
    return Profile.model_validate(
        {
            "name": "held",
            "tools": {
                "test.guarded": {"secrets": ["api_key"]},
                "test.guarded_flaky": {},
                "test.guarded_blocking": {},
            },
            "secrets": {"api_key": {"backend": "dict", "ref": "api_key"}},
            "approvals": policy,
        }
    )


def mission(calls: int = 1, tool: str = "test.guarded", **extra: Any) -> MissionSpec:
    turns: list[dict[str, Any]] = [
        {"tool_calls": [{"name": tool, "arguments": {"ticket": 7, "text": "hi"}}]}
        for _ in range(calls)
    ]
    return MissionSpec.model_validate(
        {
            "name": "held",
            "profile": "held",
            "goal": "write a note",
            "model": {"provider": "scripted", "script": {"turns": [*turns, {"final": "done"}]}},
            "tools": [tool],
            **extra,
        }
    )


class Held:
    """A worker for one profile, its audit log and its credential backend."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        tmp_path: Path,
        held: Profile,
        audit: type[AuditLog] = AuditLog,
    ) -> None:
        self.env = env
        self.audit = audit(tmp_path / "audit.log")
        self.backend = DictBackend({"api_key": "s3cr3t-approval"})
        self.worker = build_worker(
            env.client,
            Settings(task_queue=QUEUE),
            spine=Spine(
                profiles=StaticProfiles(held),
                credentials=CredentialBroker({"dict": self.backend}, self.audit),
                screens=Screens(StaticRedactionKey(b"k" * 32), self.audit),
                prompts=FilePromptStore(tmp_path / "prompts"),
                audit=self.audit,
                approvers=StaticApproverKeys(PUBLIC),
            ),
            tools={name: REGISTRY[name] for name in HELD_TOOLS},
        )

    async def sign(
        self, state: ApprovalState, who: str, verdict: str = "approve", **kw: Any
    ) -> Decision:
        """A decision dated by the test server's clock (ahead of the wall clock
        once a test skipped time), as an approver's is by theirs."""
        return sign_decision(
            KEYS[who],
            state.request,
            approver=who,
            decision=verdict,  # type: ignore[arg-type]
            now=await self.env.get_current_time(),
            **kw,
        )

    async def start(
        self, spec: MissionSpec, submitter: str | None = "sam"
    ) -> WorkflowHandle[Any, MissionResult]:
        mission_id = f"held-{uuid.uuid4().hex[:8]}"
        return await self.env.client.start_workflow(
            WORKFLOW_NAME,
            MissionInput(mission_id=mission_id, spec=spec, submitter=submitter),
            id=mission_id,
            task_queue=QUEUE,
            result_type=MissionResult,
        )


async def pending(handle: WorkflowHandle[Any, Any], count: int = 1) -> list[ApprovalState]:
    """Until the mission holds `count` requests, the last pending (real time)."""
    async with asyncio.timeout(30):
        while True:
            states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
            if len(states) >= count and states[-1].status == "pending":
                return states
            await asyncio.sleep(0.05)


async def refused(handle: WorkflowHandle[Any, Any], decision: Decision) -> str:
    """Why the `decide` update refused `decision`."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(DECIDE_UPDATE, decision)
    return str(failed.value.cause)


@pytest.fixture(autouse=True)
def no_runs() -> None:
    RUNS.clear()


async def test_an_approved_call_runs_once_with_a_credential_minted_after_approval(
    time_skipping_env, tmp_path
):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        described = await handle.describe()
        assert described.typed_search_attributes.get(SA_STATUS) == "awaiting_approval"
        assert held.backend.issued == [] and RUNS == []  # nothing exists before approval
        assert state.request.arguments == {"ticket": 7, "text": "hi"}
        decision = await held.sign(state, "alice")
        await handle.signal(APPROVE_SIGNAL, decision)
        result = await handle.result()
    assert result.status == MissionStatus.COMPLETED
    assert len(RUNS) == 1 and len(held.backend.issued) == 1
    kinds = [e.kind for e in held.audit.events(handle.id)]
    assert kinds.index("approval.requested") < kinds.index("approval.decided")
    assert kinds.index("approval.decided") < kinds.index("credential.issued")
    assert kinds.count("approval.decided") == 1
    issued = next(e for e in held.audit.events(handle.id) if e.kind == "credential.issued")
    assert issued.details["approval"] == state.request.id
    decided = next(e for e in held.audit.events(handle.id) if e.kind == "approval.decided")
    assert decided.actor == "alice" and decided.details["key"] == keys.fingerprint(PUBLIC["alice"])
    assert decided.details["decision_id"] == decision.used_id


async def test_the_workflow_task_that_releases_a_call_only_schedules_it(
    time_skipping_env, tmp_path
):
    """No audit activity, no patch marker, no timer cancelled, no search
    attribute on the way from the approval to the call (each costs that task
    time at the server): the call alone."""
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        await handle.signal(APPROVE_SIGNAL, await held.sign(state, "alice"))
        assert (await handle.result()).status == MissionStatus.COMPLETED
        events = (await handle.fetch_history()).events
    kinds = [e.event_type for e in events]
    signalled = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    completed = kinds.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, signalled)
    commands = []
    for event in events[completed + 1 :]:
        if event.event_type not in COMMAND_EVENTS:
            break
        commands.append(EventType.Name(event.event_type))
    assert commands == ["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]
    scheduled = events[completed + 1].activity_task_scheduled_event_attributes
    assert scheduled.activity_type.name == RUN_TOOL


COMMAND_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_TIMER_CANCELED,
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
}


async def test_a_denied_call_is_refused_to_the_model_and_the_mission_goes_on(
    time_skipping_env, tmp_path
):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        await handle.signal(DENY_SIGNAL, await held.sign(state, "bob", "deny", reason="not today"))
        result = await handle.result()
        transcript = await handle.query("transcript")
    assert result.status == MissionStatus.COMPLETED and RUNS == []
    assert held.backend.issued == []
    tool_message = next(m for m in transcript if m["role"] == "tool")
    assert tool_message["content"] == "tool refused: bob denied this call: not today"


async def test_rejected_decisions_change_nothing_and_are_audited(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile(approvers=["alice", "bob", "sam"]))
    async with held.worker:
        handle = await held.start(mission(), submitter="sam")
        (state,) = await pending(handle)
        forged = (await held.sign(state, "mallory")).model_copy(update={"approver": "alice"})
        other_args = (await held.sign(state, "alice")).model_copy(update={"digest": "0" * 64})
        bad = [
            await held.sign(state, "carol"),  # not an approver
            await held.sign(state, "sam"),  # the mission's submitter
            forged,  # signed by another key
            other_args,  # a digest changed after signing: the signature no longer holds
            await held.sign(state, "alice", validity=timedelta(seconds=-1)),  # expired
            await held.sign(state, "alice", "deny"),  # a deny sent as approve
        ]
        for decision in bad:
            await handle.signal(APPROVE_SIGNAL, decision)
        assert "signature" in await refused(handle, forged)
        states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
        assert states[0].status == "pending" and states[0].approved_by == []
        # Then a good one counts, and replaying it into the next request does not.
        good = await held.sign(state, "alice")
        assert await handle.execute_update(DECIDE_UPDATE, good, result_type=str) == "approved"
        result = await handle.result()
    assert result.status == MissionStatus.COMPLETED and len(RUNS) == 1
    rejected = [e for e in held.audit.events(handle.id) if e.kind == "approval.rejected"]
    assert len(rejected) == len(bad)
    assert all(e.outcome == "rejected" and e.reason for e in rejected)


async def test_a_second_identical_call_waits_for_its_own_approval(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission(calls=2))
        (first,) = await pending(handle)
        decision = await held.sign(first, "alice")
        await handle.signal(APPROVE_SIGNAL, decision)
        states = await pending(handle, count=2)
        second = states[1]
        assert second.request.arguments == first.request.arguments
        assert second.request.digest != first.request.digest  # bound to its own call
        # The first approval, replayed, does not release the second call.
        replayed = decision.model_copy(update={"request_id": second.request.id})
        assert "signature" in await refused(handle, replayed)
        assert len(RUNS) == 1
        await handle.signal(APPROVE_SIGNAL, await held.sign(second, "bob"))
        assert (await handle.result()).status == MissionStatus.COMPLETED
    assert len(RUNS) == 2


async def test_a_critical_call_needs_two_distinct_approvers(time_skipping_env, tmp_path):
    held = Held(
        time_skipping_env,
        tmp_path,
        profile(
            required=[{"tools": ["test.guarded"], "privilege": ["high", "critical"]}], quorum=2
        ),
    )
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        await handle.execute_update(DECIDE_UPDATE, await held.sign(state, "alice"), result_type=str)
        assert "already approved" in await refused(handle, await held.sign(state, "alice"))
        states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
        assert states[0].status == "pending" and RUNS == []
        status = await handle.execute_update(
            DECIDE_UPDATE, await held.sign(state, "bob"), result_type=str
        )
        assert status == "approved"
        assert (await handle.result()).status == MissionStatus.COMPLETED
    assert len(RUNS) == 1


async def test_approved_with_edited_arguments_runs_those_and_tells_the_model(
    time_skipping_env, tmp_path
):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        edited = {"ticket": 7, "text": "hello, politely"}
        await handle.signal(APPROVE_SIGNAL, await held.sign(state, "alice", arguments=edited))
        await handle.result()
        transcript = await handle.query("transcript")
    assert RUNS[0]["text"] == "hello, politely"
    tool_message = next(m for m in transcript if m["role"] == "tool")
    assert tool_message["content"].startswith("(an approver changed the arguments to")


async def test_timeout_denies_by_default(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile(timeout="1h"))
    async with held.worker:
        handle = await held.start(mission(limits={"deadline": "3h"}))
        result = await handle.result()  # the test server skips the hour
        transcript = await handle.query("transcript")
    assert result.status == MissionStatus.COMPLETED and RUNS == []
    assert (
        "no approval came in time" in next(m for m in transcript if m["role"] == "tool")["content"]
    )
    assert "approval.timed_out" in [e.kind for e in held.audit.events(handle.id)]


async def test_timeout_can_abort_the_mission(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile(timeout="1h", on_timeout="abort"))
    async with held.worker:
        handle = await held.start(mission(limits={"deadline": "3h"}))
        result = await handle.result()
    assert result.status == MissionStatus.ABORTED and RUNS == []
    assert result.reason is not None and "no approval for test.guarded" in result.reason


async def test_timeout_escalates_then_the_second_list_approves(time_skipping_env, tmp_path):
    held = Held(
        time_skipping_env,
        tmp_path,
        profile(timeout="1h", on_timeout="escalate", escalate_to=["carol", "sam"]),
    )
    async with held.worker:
        handle = await held.start(mission(limits={"deadline": "3h"}))
        await pending(handle)
        await time_skipping_env.sleep(timedelta(minutes=61))  # past the first hour
        states = await pending(handle)
        assert states[0].request.escalated and states[0].request.approvers == ["carol", "sam"]
        assert "may not decide" in await refused(handle, await held.sign(states[0], "alice"))
        await handle.execute_update(
            DECIDE_UPDATE, await held.sign(states[0], "carol"), result_type=str
        )
        assert (await handle.result()).status == MissionStatus.COMPLETED
    assert len(RUNS) == 1
    kinds = [e.kind for e in held.audit.events(handle.id)]
    assert "approval.escalated" in kinds and "approval.timed_out" not in kinds


async def test_an_abort_while_waiting_ends_the_mission_and_the_request(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission())
        await pending(handle)
        await handle.execute_update("abort", AbortRequest(reason="changed my mind"))
        result = await handle.result()
        states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
    assert result.status == MissionStatus.ABORTED and RUNS == []
    assert states[0].status == "aborted"


async def test_a_mission_may_not_loosen_its_profiles_approvals(time_skipping_env, tmp_path):
    held = Held(time_skipping_env, tmp_path, profile())
    async with held.worker:
        handle = await held.start(mission(approvals={"approvers": ["carol"]}))
        result = await handle.result()
    assert result.status == MissionStatus.FAILED
    assert result.reason is not None and "not among the profile's" in result.reason


async def test_a_retried_approved_call_reuses_its_approval(time_skipping_env, tmp_path):
    FLAKY.clear()
    held = Held(time_skipping_env, tmp_path, profile())
    spec = MissionSpec.model_validate(
        {
            "name": "held",
            "profile": "held",
            "goal": "write a note",
            "model": {
                "provider": "scripted",
                "script": {
                    "turns": [
                        {
                            "tool_calls": [
                                {
                                    "name": "test.guarded_flaky",
                                    "arguments": {"ticket": 7, "text": "hi"},
                                }
                            ]
                        },
                        {"final": "done"},
                    ]
                },
            },
            "tools": ["test.guarded_flaky"],
        }
    )
    async with held.worker:
        handle = await held.start(spec)
        (state,) = await pending(handle)
        await handle.signal(APPROVE_SIGNAL, await held.sign(state, "alice"))
        assert (await handle.result()).status == MissionStatus.COMPLETED
        states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
    assert len(FLAKY) == 2 and len(set(FLAKY)) == 1  # two attempts of one call
    assert len(states) == 1  # and one approval for both
    # The first attempt wrote the decision and said so in its heartbeat: the
    # second does not write it again.
    kinds = [e.kind for e in held.audit.events(handle.id)]
    assert kinds.count("approval.decided") == 1


def _in_tool_call() -> bool:
    return activity.in_activity() and activity.info().activity_type == RUN_TOOL


class DecisionsUnwritable(AuditLog):
    """The tool activity's write of its decision fails (a full disk, say);
    the workflow's own write works."""

    def record_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if any(e.kind == "approval.decided" for e in events) and _in_tool_call():
            raise AuditError("disk full")
        return super().record_many(events)


async def test_a_decision_the_call_could_not_write_is_written_by_the_workflow(
    time_skipping_env, tmp_path
):
    held = Held(time_skipping_env, tmp_path, profile(), audit=DecisionsUnwritable)
    async with held.worker:
        handle = await held.start(mission())
        (state,) = await pending(handle)
        decision = await held.sign(state, "alice")
        await handle.signal(APPROVE_SIGNAL, decision)
        result = await handle.result()
    assert result.status == MissionStatus.FAILED and RUNS == []
    assert result.reason is not None and "could not be written" in result.reason
    assert held.backend.issued == []  # nothing minted ahead of the record
    decided = [e for e in held.audit.events(handle.id) if e.kind == "approval.decided"]
    assert [e.details["decision_id"] for e in decided] == [decision.used_id]


async def test_an_abort_during_the_approved_call_leaves_its_decision_on_record(
    time_skipping_env, tmp_path
):
    held = Held(time_skipping_env, tmp_path, profile())
    BLOCKING.clear()
    spec = mission(tool="test.guarded_blocking")
    async with held.worker:
        handle = await held.start(spec)
        (state,) = await pending(handle)
        decision = await held.sign(state, "alice")
        await handle.signal(APPROVE_SIGNAL, decision)
        await asyncio.wait_for(BLOCKING.wait(), 30)
        # The status query says running at once (the search attribute follows
        # once the call is back).
        assert (await handle.query("status", result_type=MissionProgress)).status == "running"
        await handle.execute_update("abort", AbortRequest(reason="stop"))
        result = await handle.result()
    assert result.status == MissionStatus.ABORTED
    decided = [e for e in held.audit.events(handle.id) if e.kind == "approval.decided"]
    # Written by the call first; the workflow, not knowing, writes it again.
    assert decided and {e.details["decision_id"] for e in decided} == {decision.used_id}
