"""Fail closed: the secret backend dies in the middle of a mission. The tool
that needs a credential never runs; the mission retries per its policy and
fails with a clear reason. Its own stack, since this one kills its OpenBao."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from sealed import missions
from sealed.client import connect
from sealed.devstack import DevStack, Ports
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import load_profile
from sealed.models import MissionSpec, MissionStatus
from sealed.workers.worker import build_worker
from tests.integration.conftest import TESTER_PROFILE, TOOL_MODULES


async def test_backend_stopped_mid_mission(tmp_path: Path):
    stack = DevStack(tmp_path, Ports.free(), worker=False, say=lambda _: None)
    info = await asyncio.to_thread(stack.start)
    try:
        VaultAdmin(info.vault_addr, (tmp_path / "vault-root-token").read_text()).apply_profile(
            load_profile(TESTER_PROFILE)
        )
        settings = info.settings(tool_modules=TOOL_MODULES)
        spec = MissionSpec.model_validate(
            {
                "name": "fail-closed",
                "profile": "tester",
                "goal": "comment after a pause",
                "tools": ["test.stall", "tickets.comment"],
                "model": {
                    "provider": "scripted",
                    "script": {
                        "turns": [
                            {"tool_calls": [{"name": "test.stall", "arguments": {"seconds": 3}}]},
                            {
                                "tool_calls": [
                                    {
                                        "name": "tickets.comment",
                                        "arguments": {"ticket_id": 4, "body": "must never land"},
                                    }
                                ]
                            },
                            {"final": "done"},
                        ]
                    },
                },
            }
        )
        client = await connect(settings)
        async with build_worker(client, settings):
            handle = await missions.submit(client, settings, spec)
            async with asyncio.timeout(30):
                await missions.wait_for_pending(client, handle.id, "tool:test.stall")
            stack.children.procs["openbao"].kill()  # the backend dies mid-mission
            result = await asyncio.wait_for(handle.result(), timeout=90)

        assert result.status == MissionStatus.FAILED
        assert result.reason is not None and "unreachable" in result.reason
        history = await handle.fetch_history()
        attempts = [
            e.activity_task_started_event_attributes.attempt
            for e in history.events
            if e.HasField("activity_task_started_event_attributes")
        ]
        # The next activity to need the backend (the model turn, which loads the
        # original prompt from it) fails closed, retried per its policy.
        assert max(attempts) in (4, 5), "the failing call is retried per its policy"
        async with httpx.AsyncClient() as http:
            ticket = (await http.get(f"{info.tickets_url}/tickets/4")).json()
        assert all(c["body"] != "must never land" for c in ticket["comments"])
    finally:
        stack.stop()
