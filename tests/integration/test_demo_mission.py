"""The demo mission on the real stack: real Temporal dev server, real OpenBao,
real ticket service; and the stock `temporal` CLI sees it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.demo import DEMO_MISSION
from sealed.devstack import StackInfo
from sealed.models import MissionStatus
from sealed.spec_loader import load_mission
from tests.containment import decoded_history, encodings, files_holding, temporal_cli
from tests.integration.conftest import tickets_token


async def test_demo_mission_runs_end_to_end(
    client: Client, worker, stack: StackInfo, stack_settings: Settings
):
    spec = load_mission(DEMO_MISSION)
    handle = await missions.submit(client, stack_settings, spec)
    lines: list[str] = []
    result = await missions.follow(handle, lines.append)

    assert result.status == MissionStatus.COMPLETED, result.reason
    assert result.tool_calls == 4
    assert any("tickets.comment" in line for line in lines)
    # The comment really landed, once, under the mission's idempotency key.
    async with httpx.AsyncClient() as http:
        ticket = (await http.get(f"{stack.tickets_url}/tickets/1")).json()
    mine = [c for c in ticket["comments"] if handle.id in c.get("idempotency_key", "")]
    assert len(mine) == 1 and mine[0]["body"].startswith("Triage:")
    # Ticket 3's planted instruction was caught and fenced; the gullible model
    # never acted on it, so nothing of this mission landed on ticket 2.
    assert any("tickets.read [ok]: [UNTRUSTED TOOL OUTPUT" in line for line in lines)
    async with httpx.AsyncClient() as http:
        other = (await http.get(f"{stack.tickets_url}/tickets/2")).json()
    assert not [c for c in other["comments"] if handle.id in (c["idempotency_key"] or "")]
    injections = [
        e
        for e in AuditLog(stack_settings.audit_path()).events(handle.id)
        if e.kind == "injection.detected"
    ]
    assert [e.tool for e in injections] == ["tickets.read"]

    shown = json.loads(temporal_cli(stack, "workflow", "show", "-w", handle.id))
    kinds = [e["eventType"] for e in shown["events"]]
    assert kinds[0].endswith("WORKFLOW_EXECUTION_STARTED")
    assert kinds[-1].endswith("WORKFLOW_EXECUTION_COMPLETED")

    listed = temporal_cli(
        stack,
        "workflow",
        "list",
        "--query",
        f"SealedStatus='completed' AND WorkflowId='{handle.id}'",
    )
    assert handle.id in listed


async def test_list_filters_by_status(client: Client, worker, stack_settings: Settings):
    spec = load_mission(DEMO_MISSION)
    handle = await missions.submit(client, stack_settings, spec)
    await handle.result()
    async with asyncio.timeout(10):  # visibility is eventually consistent
        while True:
            rows = await missions.list_missions(client, MissionStatus.COMPLETED)
            if handle.id in [row[0] for row in rows]:
                break
            await asyncio.sleep(0.2)
    aborted = [row[0] for row in await missions.list_missions(client, MissionStatus.ABORTED)]
    assert handle.id not in aborted


async def test_the_tickets_token_never_leaves_the_tool_activity(
    client: Client, worker, stack: StackInfo, stack_settings: Settings, capfd
):
    """The containment test: the ticket write token (the canary; random per
    stack) reaches the comment tool, and in no encoding is it in the history,
    any model input, the transcript, a log line, either audit log or
    Temporal's database."""
    token = tickets_token(stack)
    handle = await missions.submit(client, stack_settings, load_mission(DEMO_MISSION))
    assert (await handle.result()).status == MissionStatus.COMPLETED

    stored = decoded_history((await handle.fetch_history()).to_json())
    # Decrypted through the codec server, as an operator would read it.
    history = decoded_history(
        temporal_cli(
            stack,
            "workflow",
            "show",
            "-w",
            handle.id,
            "--codec-endpoint",
            stack.codec_url,
            "--codec-auth",
            f"Bearer {stack_settings.codec_bearer()}",
        )
    )
    transcript = json.dumps(await handle.query("transcript"))
    out, err = capfd.readouterr()
    assert "tickets.comment" in history  # the call is there, its credential is not
    # What Temporal stores is ciphertext: not even the mission's goal is in clear.
    assert "Review the open support tickets" in history
    assert "Review the open support tickets" not in stored
    # The history holds every model input (each model-turn activity's input).
    texts = {"history": history, "stored": stored, "transcript": transcript, "logs": out + err}
    for where, text in texts.items():
        for form in encodings(token):
            assert form not in text, f"the token leaked into the {where}"
    assert files_holding(token, Path(stack.data_dir)) == []
    # Nor does any login that can fetch one, nor the codec's bearer token.
    data_dir = Path(stack.data_dir)
    for name in ("worker-secret-id", "codec-secret-id", "codec-token"):
        credential = (data_dir / name).read_text().strip()
        assert files_holding(credential, data_dir) == [], name
        assert all(credential not in text for text in texts.values()), name
    for clear in ("Review the open support tickets", "I reset my password this morning"):
        assert files_holding(clear, Path(stack.data_dir), ("temporal.db*",)) == []
