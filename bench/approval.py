"""Approval-to-resume latency (issue: Sealed IV): from sending the `approve`
signal with a signed Decision to the held tool starting, p50 and p99, next to
the same path in a bare Temporal workflow (it waits on a signal with
wait_condition, then runs one activity: signal sent -> activity started),
samples interleaved in the same run; target: mission p50 within 1.2x of the
bare floor's.

The judged tool is `bench.approved` (privilege high, no secrets): the approval
path alone. The demo's `tickets.comment` is measured beside it for context: its
two credentials are minted after the approval and before the tool starts.

    python -m bench.approval [--samples 30] [--warmup 3]

One dev stack on free ports, an in-process worker for each side. A missed
target prints FAIL but exits 0; a run that does not really do what it
measures raises."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

# The workflow sandbox re-imports this module for every FloorWorkflow run: the
# rest is passed through so that re-import stays as cheap as the mission's.
with workflow.unsafe.imports_passed_through():
    import argparse
    import asyncio
    import dataclasses
    import math
    import statistics
    import time
    import uuid
    from collections.abc import Sequence
    from dataclasses import dataclass
    from datetime import UTC, datetime
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from pydantic import BaseModel
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client, WorkflowHandle
    from temporalio.worker import Worker

    from bench.stack import bench_stack, use_stack
    from sealed import missions
    from sealed.approvals import ApprovalState, Decision, sign_decision
    from sealed.approvals.keys import new_key, public_text, sign
    from sealed.client import connect
    from sealed.config import Settings
    from sealed.contract import APPROVALS_QUERY, APPROVE_SIGNAL, RUN_TOOL
    from sealed.demo import DEMO_APPROVER, demo_key
    from sealed.devstack import StackInfo
    from sealed.identity.openbao.admin import VaultAdmin
    from sealed.identity.profiles import Profile
    from sealed.models import Message, MissionResult, MissionSpec, MissionStatus
    from sealed.tools.registry import ToolContext, ToolDef, load_tool_modules
    from sealed.workers.worker import build_worker

FLOOR_QUEUE = "sealed-bench-approval-floor"
FLOOR_ACTIVITY = "bench.floor_tool"
TARGET_RATIO = 1.2
APPROVER = "bench-approver"
PROFILE = "bench-approval"
JUDGED, DEMO = "bench.approved", "tickets.comment"


# --- the floor: Temporal and nothing else ------------------------------------------


@dataclass
class Clock:
    """When each run's tool (or floor activity) started: perf_counter for the
    latency, wall time to line it up with the history's events."""

    started: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    events: dict[str, asyncio.Event] = dataclasses.field(default_factory=dict)

    def expect(self, run: str) -> asyncio.Event:
        self.events[run] = asyncio.Event()
        return self.events[run]

    def mark(self, run: str) -> None:
        self.started[run] = (time.perf_counter(), time.time())
        if run in self.events:
            self.events[run].set()


CLOCK = Clock()


@activity.defn(name=FLOOR_ACTIVITY)
async def floor_tool(run: str) -> str:
    CLOCK.mark(run)
    return run


@workflow.defn(name="BenchApprovalFloor")
class FloorWorkflow:
    """A signal releases one activity: what any human-in-the-loop on Temporal
    costs at least."""

    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, run: str) -> str:
        await workflow.wait_condition(lambda: self.released)
        result: str = await workflow.execute_activity(
            floor_tool, run, start_to_close_timeout=timedelta(minutes=1)
        )
        return result

    @workflow.signal(name="go")
    def go(self, decision: Decision) -> None:  # the same payload as the mission's
        self.released = True

    @workflow.query(name="waiting")
    def waiting(self) -> bool:
        return not self.released


# --- the mission ---------------------------------------------------------------------


class NoArgs(BaseModel):
    pass


async def approved(ctx: ToolContext, args: NoArgs) -> str:
    """Nothing: a high-privilege call, held for approval, that needs no secret."""
    CLOCK.mark(ctx.mission_id)
    return "done"


def profile() -> Profile:
    return Profile.model_validate(
        {
            "name": PROFILE,
            "tools": {JUDGED: {}},
            "secrets": {},
            "approvals": {
                "required": [{"tools": [JUDGED]}],
                "approvers": [APPROVER],
                "quorum": 1,
            },
        }
    )


def mission_spec(which: str) -> MissionSpec:
    call: dict[str, Any] = {"name": JUDGED, "arguments": {}}
    name, on = "held", PROFILE
    if which == DEMO:
        call = {"name": DEMO, "arguments": {"ticket_id": 1, "body": "Triage: bench."}}
        name, on = "comment", "support-agent"
    return MissionSpec.model_validate(
        {
            "name": f"bench-approval-{name}",
            "profile": on,
            "goal": "call the tool once it is approved",
            "tools": [call["name"]],
            "model": {
                "provider": "scripted",
                "script": {"turns": [{"tool_calls": [call]}, {"final": "done"}]},
            },
        }
    )


# --- measuring -----------------------------------------------------------------------


@dataclass
class Sample:
    latency: float  # signal sent -> tool (or floor activity) started, perf_counter
    sent_wall: float
    started_wall: float
    handle_id: str


async def until(predicate: Any, what: str) -> Any:
    """`predicate()`'s first true answer, asked every 20 ms for 30 s."""
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    found = await predicate()
                except Exception:  # no worker has answered yet: ask again
                    found = None
                if found:
                    return found
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise RuntimeError(what) from None


async def settle() -> None:
    """Both sides wait the same before the signal: what the workflow had in
    flight (the request's audit record, its notification) has finished."""
    await asyncio.sleep(0.3)


async def sample_floor(client: Client, key: Ed25519PrivateKey) -> Sample:
    run = f"bench-floor-{uuid.uuid4().hex[:8]}"
    started = CLOCK.expect(run)
    handle = await client.start_workflow(FloorWorkflow.run, run, id=run, task_queue=FLOOR_QUEUE)
    await until(lambda: handle.query(FloorWorkflow.waiting), "the floor never waited")
    await settle()
    decision = _decision_like_the_missions(key, run)
    sent_wall, sent = time.time(), time.perf_counter()
    await handle.signal(FloorWorkflow.go, decision)
    await asyncio.wait_for(started.wait(), 30)
    at, at_wall = CLOCK.started[run]
    if await handle.result() != run:
        raise RuntimeError("the floor did not run its activity")
    return Sample(at - sent, sent_wall, at_wall, run)


def _decision_like_the_missions(key: Ed25519PrivateKey, run: str) -> Decision:
    """A signed decision of the same shape and size as a mission's."""
    unsigned = Decision(
        mission_id=run,
        request_id="approval-call-1-0",
        digest="0" * 64,
        decision="approve",
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
        approver=APPROVER,
    )
    return unsigned.model_copy(update={"signature": sign(key, unsigned.signed_bytes())})


async def sample_mission(
    client: Client, settings: Settings, key: Ed25519PrivateKey, which: str, approver: str
) -> Sample:
    spec = mission_spec(which)
    handle = await missions.submit(client, settings, spec)
    started = CLOCK.expect(handle.id)

    async def pending() -> Any:
        states = await missions.approvals(client, handle.id)
        return states[0] if states and states[0].status == "pending" else None

    state = await until(pending, "the mission never asked for approval")
    await settle()
    decision = sign_decision(key, state.request, approver=approver, now=datetime.now(UTC))
    sent_wall, sent = time.time(), time.perf_counter()
    await handle.signal(APPROVE_SIGNAL, decision)
    await asyncio.wait_for(started.wait(), 30)
    at, at_wall = CLOCK.started[handle.id]
    await check_mission(handle, which)
    return Sample(at - sent, sent_wall, at_wall, handle.id)


async def check_mission(handle: WorkflowHandle[object, MissionResult], which: str) -> None:
    result = await handle.result()
    if result.status != MissionStatus.COMPLETED or result.tool_calls != 1:
        raise RuntimeError(f"the mission did not run as scripted: {result!r}")
    transcript = await handle.query("transcript", result_type=list[Message])
    [output] = [m for m in transcript if m.role == "tool"]
    if output.is_error:
        raise RuntimeError(f"the approved {which} failed: {output.content[:200]}")
    [state] = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
    if state.status != "approved":
        raise RuntimeError(f"the {which} ran without its approval: {state!r}")


def pct(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


async def breakdown(client: Client, sample: Sample, activity_type: str) -> dict[str, float]:
    """Where a run's latency goes, from its history (server clock, the same
    machine): the signal recorded, the workflow task that takes it and
    schedules the activity, the activity started, and the tool (or the floor's
    activity) starting in the worker; a mission's tool activity first writes
    the decision to the audit log."""
    events = (await client.get_workflow_handle(sample.handle_id).fetch_history()).events
    at: dict[str, float] = {}
    for e in events:
        t = e.event_time.ToDatetime().replace(tzinfo=UTC).timestamp()
        kind = e.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            at.setdefault("signal recorded", t)
        elif "signal recorded" not in at:
            continue
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if e.activity_task_scheduled_event_attributes.activity_type.name == activity_type:
                at.setdefault("tool activity scheduled", t)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED and "tool activity scheduled" in at:
            at.setdefault("tool activity started", t)
    steps = ["signal recorded", "tool activity scheduled", "tool activity started"]
    points = [("signal sent", sample.sent_wall)]
    points += [(step, at[step]) for step in steps if step in at]
    points.append(("tool function started", sample.started_wall))
    return {name: t - points[i][1] for i, (name, t) in enumerate(points[1:])}


async def run_all(info: StackInfo, samples: int, warmup: int) -> None:
    settings = use_stack(info)
    admin = VaultAdmin(info.vault_addr, (info.data_dir / "vault-root-token").read_text().strip())
    key = new_key()
    admin.register_approver(APPROVER, public_text(key))
    admin.apply_profile(profile())
    demo = demo_key(info.data_dir)  # the stack registered it: the demo profile's approver

    tools: dict[str, ToolDef] = dict(load_tool_modules(settings.tool_modules))
    tools[JUDGED] = ToolDef(
        name=JUDGED,
        privilege="high",
        secrets=(),
        side_effects=False,
        description="Nothing: a high-privilege call held for approval, needing no secret.",
        args_model=NoArgs,
        fn=approved,
    )
    comment = tools[DEMO]

    async def timed_comment(ctx: ToolContext, args: Any) -> Any:
        CLOCK.mark(ctx.mission_id)
        return await comment.fn(ctx, args)

    tools[DEMO] = dataclasses.replace(comment, fn=timed_comment)
    client = await connect(settings)
    floor_worker = Worker(
        client, task_queue=FLOOR_QUEUE, workflows=[FloorWorkflow], activities=[floor_tool]
    )
    kinds = ["floor", JUDGED, DEMO]
    times: dict[str, list[Sample]] = {kind: [] for kind in kinds}
    async with build_worker(client, settings, tools=tools), floor_worker:
        for i in range(warmup + samples):
            # Rotate who goes first, so a drift (SQLite growing, GC) hits all alike.
            for kind in kinds[i % len(kinds) :] + kinds[: i % len(kinds)]:
                if kind == "floor":
                    got = await sample_floor(client, key)
                elif kind == JUDGED:
                    got = await sample_mission(client, settings, key, JUDGED, APPROVER)
                else:
                    got = await sample_mission(client, settings, demo, DEMO, DEMO_APPROVER)
                if i >= warmup:
                    times[kind].append(got)
        steps = {
            kind: [await breakdown(client, s, name) for s in times[kind]]
            for kind, name in (("floor", FLOOR_ACTIVITY), (JUDGED, RUN_TOOL))
        }
    report(times, steps, samples)


def report(
    times: dict[str, list[Sample]], steps: dict[str, list[dict[str, float]]], samples: int
) -> None:
    lat = {kind: [s.latency for s in got] for kind, got in times.items()}
    p50 = {kind: pct(v, 0.5) for kind, v in lat.items()}
    p99 = {kind: pct(v, 0.99) for kind, v in lat.items()}
    f50, f99 = p50["floor"], p99["floor"]
    print(f"\napproval-to-resume: signal sent -> tool started, {samples} samples each (ms)")
    print(f"{'':>44} {'p50':>7} {'p99':>7}   ratio to the floor: p50, p99")
    labels = {
        "floor": "bare Temporal: signal -> activity",
        JUDGED: f"mission, {JUDGED} (no secrets)",
        DEMO: f"mission, {DEMO} (mints 2 credentials)",
    }
    for kind, label in labels.items():
        print(
            f"{label:>44} {ms(p50[kind]):>7} {ms(p99[kind]):>7}"
            f"   {p50[kind] / f50:6.2f}x {p99[kind] / f99:6.2f}x"
        )
    print(f"where the time goes (medians, from the histories, ms): {'floor':>8} {JUDGED:>14}")
    for name in steps[JUDGED][0]:
        medians = [
            ms(statistics.median([s[name] for s in steps[kind] if name in s]))
            for kind in ("floor", JUDGED)
        ]
        print(f"  -> {name:<48} {medians[0]:>8} {medians[1]:>14}")
    ratio = p50[JUDGED] / f50
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"approval-to-resume p50 {ms(p50[JUDGED])} ms vs floor {ms(f50)} ms: "
        f"{ratio:.2f}x (target <= {TARGET_RATIO}x): {verdict}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    if args.samples < 2 or args.warmup < 0:
        parser.error("--samples >= 2, --warmup >= 0")
    started = time.perf_counter()
    with bench_stack() as info:
        asyncio.run(run_all(info, args.samples, args.warmup))
    print(f"total run time: {time.perf_counter() - started:.1f} s (including stack start/stop)")


if __name__ == "__main__":
    main()
