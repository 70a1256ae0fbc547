"""A worker killed (SIGKILL) mid-tool-call: a new worker finishes the mission
and the side-effecting call is applied once."""

from __future__ import annotations

import asyncio
import signal
import uuid

import httpx
from temporalio.client import Client

from sealed import missions
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.models import MissionSpec, MissionStatus
from tests.integration.conftest import worker_process

QUEUE = "durability-missions"
BODY = "Triage: escalated to billing."


async def comments_by(stack: StackInfo, mission_id: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        ticket = (await http.get(f"{stack.tickets_url}/tickets/2")).json()
    return [c for c in ticket["comments"] if mission_id in str(c.get("idempotency_key"))]


async def test_sigkilled_worker_mission_completes_with_side_effect_applied_once(
    client: Client, stack: StackInfo, stack_settings: Settings, stack_env: dict[str, str]
):
    spec = MissionSpec.model_validate(
        {
            "name": "durability",
            "profile": "tester",
            "goal": "comment once",
            "tools": ["test.comment_then_stall"],
            "model": {
                "provider": "scripted",
                "script": {
                    "turns": [
                        {
                            "tool_calls": [
                                {
                                    "name": "test.comment_then_stall",
                                    "arguments": {"ticket_id": 2, "body": BODY},
                                }
                            ]
                        },
                        {"final": "commented"},
                    ]
                },
            },
        }
    )
    mission_id = f"mission-durability-{uuid.uuid4().hex[:8]}"
    settings = stack_settings.model_copy(update={"task_queue": QUEUE})
    with worker_process(stack_env, QUEUE, ("workers",)) as first:
        handle = await missions.submit(client, settings, spec, mission_id)
        for _ in range(300):
            if await comments_by(stack, mission_id):
                break
            await asyncio.sleep(0.1)
        assert await comments_by(stack, mission_id), "the first attempt never commented"
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert (await handle.describe()).status.name == "RUNNING"

    with worker_process(stack_env, QUEUE, ("workers",)):
        result = await asyncio.wait_for(handle.result(), timeout=90)

    assert result.status == MissionStatus.COMPLETED
    applied = await comments_by(stack, mission_id)
    assert len(applied) == 1 and applied[0]["body"] == BODY
    history = await handle.fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert max(attempts) >= 2, "the tool call was not retried after the kill"
