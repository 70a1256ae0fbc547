"""Every committed history replays against the current MissionWorkflow: a
change that alters its command sequence fails here, not in production.
Regenerate the histories with `make histories` (see README)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from sealed.approvals.events import ApprovalEvent
from sealed.approvals.request import ApprovalRequest
from sealed.codec import KeyRing, data_converter
from sealed.contract import (
    APPROVAL_EVENT,
    DIRECTIVE_ABORT,
    DIRECTIVE_EVENT,
    MODEL_TURN,
    NOTIFY_APPROVAL,
    RUN_TOOL,
)
from sealed.directives.events import DirectiveAbort, DirectiveEvent
from sealed.models import (
    MissionInput,
    MissionResult,
    ModelTurnInput,
    ModelTurnOutput,
    ToolCallInput,
    ToolCallResult,
)
from sealed.workflows.mission import MissionWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
# The workers' converter, with the test-only key `make histories` records with,
# reading the v1 recordings too (written before encryption).
KEYS = KeyRing.from_file(Path(__file__).parents[1] / "data" / "codec-test-keys")
CONVERTER = data_converter(KEYS, strict=False)


def load(path: Path) -> WorkflowHistory:
    """Under the workflow id it was recorded with (its payloads are bound to
    it): `history-<name>`, whatever recording generation the file's prefix names."""
    name = re.sub(r"^v\d+-", "", path.stem)
    return WorkflowHistory.from_json(f"history-{name}", path.read_text())


def test_histories_are_committed():
    names = {p.stem for p in HISTORIES}
    assert {
        "demo_triage_directive_aborted",
        "demo_triage_limit_exceeded",
        "stalling_aborted",
    } <= names
    # Recorded before directives, with the demo completing: kept, and replayed.
    assert {"v4-demo_triage_completed", "v3-demo_triage_completed"} <= names


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


INPUTS = {
    MODEL_TURN: ModelTurnInput,
    RUN_TOOL: ToolCallInput,
    APPROVAL_EVENT: ApprovalEvent,
    NOTIFY_APPROVAL: ApprovalRequest,
    DIRECTIVE_EVENT: DirectiveEvent,
    DIRECTIVE_ABORT: DirectiveAbort,
}
RESULTS: dict[str, type] = {
    MODEL_TURN: ModelTurnOutput,
    RUN_TOOL: ToolCallResult,
    APPROVAL_EVENT: type(None),
    NOTIFY_APPROVAL: int,
    DIRECTIVE_EVENT: type(None),
    DIRECTIVE_ABORT: list[str],
}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_every_payload_of_a_history_decodes_with_the_current_models(path: Path):
    """The replayer never decodes activity inputs, but a worker does: an activity
    scheduled by an older worker and run (or retried) by this one must decode.
    Fields may be added with defaults; one that old histories carry must keep
    being accepted."""
    decoded = 0
    scheduled: dict[int, str] = {}
    for event in load(path).events:
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            await CONVERTER.decode(payloads, [MissionInput])
        elif event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
            await CONVERTER.decode(attrs.input.payloads, [INPUTS[attrs.activity_type.name]])
        elif event.HasField("activity_task_completed_event_attributes"):
            attrs = event.activity_task_completed_event_attributes
            name = scheduled[attrs.scheduled_event_id]
            await CONVERTER.decode(attrs.result.payloads, [RESULTS[name]])
        elif event.HasField("workflow_execution_completed_event_attributes"):
            payloads = event.workflow_execution_completed_event_attributes.result.payloads
            await CONVERTER.decode(payloads, [MissionResult])
        else:
            continue
        decoded += 1
    assert decoded > 2 and scheduled
