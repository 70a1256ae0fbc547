"""Replaying a mission's history against the current MissionWorkflow, with the
converter and codec the workers use: success, or the first non-determinism."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from sealed.workers.worker import WORKFLOW_RUNNER
from sealed.workflows.mission import MissionWorkflow


class ReplayReport(BaseModel):
    workflow_id: str
    events: int
    ok: bool
    failure: str | None = None


async def replay_history(history: WorkflowHistory, converter: DataConverter) -> ReplayReport:
    replayer = Replayer(
        workflows=[MissionWorkflow], data_converter=converter, workflow_runner=WORKFLOW_RUNNER
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return ReplayReport(
        workflow_id=history.workflow_id,
        events=len(history.events),
        ok=result.replay_failure is None,
        failure=None if result.replay_failure is None else str(result.replay_failure),
    )


async def fetch(client: Client, workflow_id: str) -> WorkflowHistory:
    return await client.get_workflow_handle(workflow_id).fetch_history()


def load(path: Path) -> WorkflowHistory:
    """A history exported by `temporal workflow show --output json` (or
    `WorkflowHistory.to_json`); the workflow id comes from its start event."""
    text = path.read_text()
    events = json.loads(text).get("events", [])
    started = events[0].get("workflowExecutionStartedEventAttributes", {}) if events else {}
    workflow_id = started.get("workflowId") or path.stem
    return WorkflowHistory.from_json(workflow_id, text)
