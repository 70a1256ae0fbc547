"""Replay speed (issue: Sealed III-C): a 50-turn mission's history replayed
with `Replayer` and the workers' converter and codec, in history events per
second (target: at least 2,000 on this machine), side by side with a bare
workflow's history of as many activities replayed the same way.

A benchmark, not a test: a missed target prints FAIL and exits 0."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from bench.mission_overhead import BARE_QUEUE, BareWorkflow, mission_spec, noop
from bench.stack import bench_stack, use_stack
from sealed.client import connect
from sealed.devstack import StackInfo
from sealed.missions import submit
from sealed.models import MissionStatus
from sealed.workers.worker import build_worker
from sealed.workflows.mission import MissionWorkflow

TARGET_EVENTS_PER_S = 2000.0


async def histories(info: StackInfo, turns: int) -> tuple[Client, WorkflowHistory, WorkflowHistory]:
    settings = use_stack(info)
    client = await connect(settings)
    bare_worker = Worker(client, task_queue=BARE_QUEUE, workflows=[BareWorkflow], activities=[noop])
    async with build_worker(client, settings), bare_worker:
        mission = await submit(client, settings, mission_spec(turns))
        result = await mission.result()
        if result.status != MissionStatus.COMPLETED or result.tool_calls != turns:
            raise RuntimeError(f"the mission did not run as scripted: {result}")
        bare = await client.start_workflow(
            BareWorkflow.run,
            2 * turns + 1,
            id=f"bench-bare-{uuid.uuid4().hex[:8]}",
            task_queue=BARE_QUEUE,
        )
        await bare.result()
        return client, await mission.fetch_history(), await bare.fetch_history()


async def events_per_second(
    client: Client, history: WorkflowHistory, workflow: type, reps: int
) -> float:
    replayer = Replayer(workflows=[workflow], data_converter=client.data_converter)
    samples = []
    for _ in range(reps + 1):  # the first replay warms the sandbox up
        start = time.perf_counter()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        samples.append(time.perf_counter() - start)
        if result.replay_failure is not None:
            raise RuntimeError(f"replay failed: {result.replay_failure}")
    return len(history.events) / statistics.median(samples[1:])


async def run(info: StackInfo, turns: int, reps: int) -> None:
    client, mission, bare = await histories(info, turns)
    ours = await events_per_second(client, mission, MissionWorkflow, reps)
    base = await events_per_second(client, bare, BareWorkflow, reps)
    print(
        f"\nreplay: a {turns}-turn mission ({len(mission.events)} events) vs a bare workflow "
        f"with as many activities ({len(bare.events)} events), median of {reps}"
    )
    print(f"  mission  {ours:9.0f} events/s")
    print(f"  bare     {base:9.0f} events/s   (mission at {ours / base:.2f}x of bare)")
    verdict = "PASS" if ours >= TARGET_EVENTS_PER_S else "FAIL"
    print(f"replay speed {ours:.0f} events/s (target >= {TARGET_EVENTS_PER_S:.0f}): {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    with bench_stack() as info:
        asyncio.run(run(info, args.turns, args.reps))


if __name__ == "__main__":
    main()
