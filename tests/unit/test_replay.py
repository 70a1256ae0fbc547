"""Every committed history replays against the current MissionWorkflow: a
change that alters its command sequence fails here, not in production.
Regenerate the histories with `make histories` (see README)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from sealed.codec import KeyRing, data_converter
from sealed.models import MissionInput, MissionResult
from sealed.workflows.mission import MissionWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
# The workers' converter, with the test-only key `make histories` records with.
CONVERTER = data_converter(
    KeyRing.from_file(Path(__file__).parents[1] / "data" / "codec-test-keys")
)


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_histories_are_committed():
    names = {p.stem for p in HISTORIES}
    assert {"demo_triage_completed", "demo_triage_limit_exceeded", "stalling_aborted"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path):
    replayer = Replayer(workflows=[MissionWorkflow], data_converter=CONVERTER)
    await replayer.replay_workflow(load(path))


@workflow.defn(name="MissionWorkflow", sandboxed=False)
class PausingMissionWorkflow(MissionWorkflow):
    """A test-only copy that sleeps before starting: a new timer command."""

    @workflow.run
    async def run(self, input: MissionInput) -> MissionResult:
        await asyncio.sleep(timedelta(seconds=1).total_seconds())
        return await super().run(input)


async def test_a_nondeterministic_change_is_caught():
    replayer = Replayer(workflows=[PausingMissionWorkflow], data_converter=CONVERTER)
    result = await replayer.replay_workflow(load(HISTORIES[0]), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
