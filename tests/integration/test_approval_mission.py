"""Sealed IV end to end on the dev server, with the real MissionWorkflow and
real workers: the demo mission's comment released by the stock `temporal
workflow signal` command that `sealed approve --print-json` prints (through
the codec server; the workers refuse plaintext), and a worker process killed
(SIGKILL) while the mission waits: a new worker answers for the same pending
request, takes the approval and the mission completes."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from sealed import missions
from sealed.approvals import ApprovalState, Decision
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.contract import SA_STATUS
from sealed.demo import DEMO_APPROVER, DEMO_MISSION, DEMO_STOPPED_BY, demo_key_file
from sealed.devstack import StackInfo
from sealed.models import MissionStatus
from sealed.spec_loader import load_mission
from tests.containment import temporal_cli
from tests.integration.conftest import run_cli, worker_process
from tests.integration.test_approval_cli import run_shell

pytestmark = pytest.mark.integration

REQUEST = "approval-call-3-0"  # the demo's comment: turn 3's first call


async def waiting_request(client: Client, mission_id: str) -> ApprovalState:
    """The mission's request once it waits (a worker must answer the query)."""
    async with asyncio.timeout(60):
        while True:
            try:
                states = await missions.approvals(client, mission_id)
            except Exception:  # no worker answering yet: ask again
                states = []
            if states and states[0].status == "pending":
                [state] = states
                return state
            await asyncio.sleep(0.2)


async def comments_by(stack: StackInfo, mission_id: str) -> list[dict[str, str]]:
    async with httpx.AsyncClient() as http:
        ticket = (await http.get(f"{stack.tickets_url}/tickets/1")).json()
    return [c for c in ticket["comments"] if mission_id in (c["idempotency_key"] or "")]


def approve_args(mission_id: str, stack: StackInfo, *extra: str) -> list[str]:
    key = demo_key_file(Path(stack.data_dir))
    return ["approve", mission_id, REQUEST, "--as", DEMO_APPROVER, "--key", str(key), *extra]


async def test_the_stock_temporal_signal_releases_the_demo_comment(
    client: Client, worker, stack: StackInfo, stack_settings: Settings, stack_env: dict[str, str]
):
    handle = await missions.submit(client, stack_settings, load_mission(DEMO_MISSION))
    state = await waiting_request(client, handle.id)
    assert state.request.id == REQUEST and state.request.tool == "tickets.comment"
    # The stock CLI finds every waiting mission by its search attribute.
    query = f"SealedStatus='awaiting_approval' AND WorkflowId='{handle.id}'"
    async with asyncio.timeout(30):  # visibility is eventually consistent
        while True:
            listed = await asyncio.to_thread(
                temporal_cli, stack, "workflow", "list", "--query", query
            )
            if handle.id in listed:
                break
            await asyncio.sleep(0.2)
    assert await comments_by(stack, handle.id) == []
    # The worker's webhook delivered the request, signed, to the stack's inbox.
    async with asyncio.timeout(30):
        while True:
            code, out, err = await run_cli("pending", "--inbox", env=stack_env)
            assert code == 0, err
            if handle.id in out:
                break
            await asyncio.sleep(0.2)
    mine = out[out.index(handle.id) :].splitlines()
    assert REQUEST in mine[0] and "now pending" in mine[1] and "tickets.comment" in mine[2]

    code, out, err = await run_cli(*approve_args(handle.id, stack, "--print-json"), env=stack_env)
    assert code == 0, err
    decision_line, command = out.strip().splitlines()
    decision = Decision.model_validate_json(decision_line)
    assert decision.digest == state.request.digest and decision.decision == "approve"
    assert "workflow signal" in command and "--name approve" in command
    assert "--codec-endpoint" in command
    code, serr = await run_shell(command)
    assert code == 0, serr

    result = await asyncio.wait_for(handle.result(), timeout=60)
    assert result.status == MissionStatus.ABORTED, result.reason
    assert result.violation is not None and result.violation.policy == DEMO_STOPPED_BY
    assert len(await comments_by(stack, handle.id)) == 1
    code, out, err = await run_cli("pending", "--inbox", env=stack_env)
    assert code == 0 and "now approved" in out[out.index(handle.id) :].splitlines()[1], err
    [decided] = await missions.approvals(client, handle.id)
    assert decided.status == "approved" and decided.approved_by == [DEMO_APPROVER]
    events = AuditLog(stack_settings.audit_path()).events(handle.id)
    [recorded] = [e for e in events if e.kind == "approval.decided"]
    assert recorded.actor == DEMO_APPROVER
    issued = [e for e in events if e.kind == "credential.issued"]
    assert issued and all(e.details["approval"] == REQUEST for e in issued)
    # The signal is in the history as sent: encrypted by the codec server.
    history = await handle.fetch_history()
    [signalled] = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signalled.signal_name == "approve"
    assert signalled.input.payloads[0].metadata["encoding"] == b"binary/encrypted"


async def test_a_worker_killed_while_the_mission_waits_loses_nothing(
    client: Client,
    stack: StackInfo,
    stack_settings: Settings,
    stack_env: dict[str, str],
    tmp_path: Path,
):
    queue = f"approval-kill-{uuid.uuid4().hex[:6]}"
    settings = stack_settings.model_copy(update={"task_queue": queue})
    log = tmp_path / "workers.log"
    with worker_process(stack_env, queue, ("sealed", "worker"), log) as first:
        handle = await missions.submit(client, settings, load_mission(DEMO_MISSION))
        before = await waiting_request(client, handle.id)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=15) == -signal.SIGKILL

    # No worker at all: the mission waits on in the server, as it said it would.
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.typed_search_attributes.get(SA_STATUS) == "awaiting_approval"

    with worker_process(stack_env, queue, ("sealed", "worker"), log) as second:
        # A new process, rebuilt from the history: the same request, still pending.
        after = await waiting_request(client, handle.id)
        assert after == before
        code, out, err = await run_cli(*approve_args(handle.id, stack), env=stack_env)
        assert code == 0, err + log.read_text()
        assert f"{REQUEST}: approved by {DEMO_APPROVER}" in out and "the request is approved" in out
        result = await asyncio.wait_for(handle.result(), timeout=90)
        assert second.poll() is None

    assert result.status == MissionStatus.ABORTED, result.reason
    assert result.violation is not None and result.violation.policy == DEMO_STOPPED_BY
    assert len(await comments_by(stack, handle.id)) == 1
    history = await handle.fetch_history()
    workers = {
        e.workflow_task_started_event_attributes.identity.split("@")[0]
        for e in history.events
        if e.HasField("workflow_task_started_event_attributes")
    }
    assert workers == {str(first.pid), str(second.pid)}
    events = AuditLog(stack_settings.audit_path()).events(handle.id)
    assert [e.kind for e in events].count("approval.requested") == 1
