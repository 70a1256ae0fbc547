"""The `sealed` command against the real stack."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import yaml
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditEvent, AuditLog
from sealed.demo import DEMO_MISSION
from tests.integration.conftest import demo_approvals, run_cli


async def count_missions(client: Client) -> int:
    return len(await missions.list_missions(client, limit=1000))


async def test_bad_spec_is_reported_and_nothing_submitted(
    client: Client, worker, stack_env, tmp_path
):
    before = await count_missions(client)
    bad = tmp_path / "bad_turns.yaml"
    spec = yaml.safe_load(DEMO_MISSION.read_text())
    spec["limits"]["max_turns"] = 0
    script = DEMO_MISSION.parent / spec["model"]["script"]
    (tmp_path / script.name).write_text(script.read_text())  # beside the mission
    bad.write_text(yaml.safe_dump(spec))
    code, out, err = await run_cli("submit", str(bad), env=stack_env)
    assert code == 2
    assert str(bad) in err and "limits.max_turns" in err and "greater than or equal to 1" in err
    assert out == ""
    assert await count_missions(client) == before


async def test_submit_wait_status_and_list(client: Client, worker, stack_env, demo_approver_key):
    # Decided a second after it waits: long enough for the follower to say so.
    async with demo_approvals(client, demo_approver_key, after=1.0) as decided:
        code, out, err = await run_cli("submit", str(DEMO_MISSION), "--wait", env=stack_env)
    assert code == 0, err
    mission_id = out.splitlines()[0]
    assert mission_id.startswith("mission-ticket-triage-")
    assert "model: Let me look at the queue. -> tickets.list({})" in out
    # Following it says what it waits for, and how to decide it.
    assert decided == [f"{mission_id}/approval-call-3-0"]
    assert "waiting for approval:" in out and "tickets.comment (high)" in out
    assert f"sealed approve {mission_id} approval-call-3-0 --as NAME --key FILE" in out
    assert f"mission {mission_id}: aborted (5 turns, 5 tool calls)" in out
    assert f"/workflows/{mission_id}" in out

    code, out, _ = await run_cli("status", mission_id, env=stack_env)
    assert code == 0 and f"{mission_id}: aborted, finished" in out

    code, out, _ = await run_cli("list", "--status", "aborted", env=stack_env)
    assert code == 0 and mission_id in out


async def test_abort_cancels_a_running_mission(client: Client, worker, stack_env, tmp_path):
    spec = yaml.safe_load(DEMO_MISSION.read_text())
    spec.update(
        name="stalling",
        profile="tester",
        tools=["test.stall"],
        model={
            "provider": "scripted",
            "script": {
                "turns": [{"tool_calls": [{"name": "test.stall", "arguments": {"seconds": 300}}]}]
            },
        },
    )
    path = tmp_path / "stall.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, out, err = await run_cli("submit", str(path), env=stack_env)
    assert code == 0, err
    mission_id = out.strip()
    handle = client.get_workflow_handle(mission_id)
    async with asyncio.timeout(30):
        await missions.wait_for_pending(client, mission_id, "tool:test.stall#call-1-0")
    code, out, err = await run_cli("abort", mission_id, "--reason", "wrong queue", env=stack_env)
    assert code == 0, err
    assert f"{mission_id}: aborted (wrong queue)" in out
    assert (await handle.result())["status"] == "aborted"
    history = await handle.fetch_history()
    kinds = [e.WhichOneof("attributes") for e in history.events]
    assert "activity_task_canceled_event_attributes" in kinds

    code, _, err = await run_cli("abort", mission_id, "--reason", "again", env=stack_env)
    assert code == 1 and "already aborted" in err
    # Every abort is audited, with who did it (red team 12).
    events = AuditLog(Path(stack_env["SEALED_DATA_DIR"]) / "audit.log").events(mission_id)
    (aborted,) = [e for e in events if e.kind == "mission.aborted"]
    assert aborted.reason == "wrong queue" and aborted.actor


async def test_profiles_revoke_revocations_unrevoke_and_audit(
    client: Client, worker, stack_env, tmp_path
):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    profile = tmp_path / "profile.yaml"
    # Approvers are named under `approvals:`: a profile naming them at the top is refused.
    profile.write_text(
        yaml.safe_dump(
            {"name": name, "tools": {"test.stall": {}}, "secrets": {}, "approvers": ["ops@x"]}
        )
    )
    code, out, err = await run_cli("profiles", "apply", str(profile), env=stack_env)
    assert code == 2 and "name approvers under 'approvals: approvers:'" in err
    profile.write_text(yaml.safe_dump({"name": name, "tools": {"test.stall": {}}, "secrets": {}}))
    code, out, err = await run_cli("profiles", "apply", str(profile), env=stack_env)
    assert code == 0, err
    assert f"{name}: 1 tools, policies sealed-p-{name}-t-test-stall" in out
    code, out, _ = await run_cli("profiles", "show", name, env=stack_env)
    assert code == 0 and '"test.stall"' in out

    spec = yaml.safe_load(DEMO_MISSION.read_text())
    spec.update(
        name="stalling",
        profile=name,
        tools=["test.stall"],
        model={
            "provider": "scripted",
            "script": {
                "turns": [{"tool_calls": [{"name": "test.stall", "arguments": {"seconds": 300}}]}]
            },
        },
    )
    mission = tmp_path / "mission.yaml"
    mission.write_text(yaml.safe_dump(spec))
    code, out, err = await run_cli("submit", str(mission), env=stack_env)
    assert code == 0, err
    mission_id = out.strip()
    async with asyncio.timeout(30):
        await missions.wait_for_pending(client, mission_id, "tool:")

    code, out, err = await run_cli(
        "revoke", "profile", name, "--reason", "laptop stolen", env=stack_env
    )
    assert code == 0, err
    assert f"revoked profile {name}: laptop stolen" in out and mission_id in out
    code, out, err = await run_cli("submit", str(mission), env=stack_env)
    assert code == 3 and f"profile '{name}' is revoked (laptop stolen" in err and out == ""
    code, out, _ = await run_cli("revocations", env=stack_env)
    assert code == 0 and name in out and "laptop stolen" in out

    code, out, err = await run_cli("unrevoke", "profile", name, env=stack_env)
    assert code == 0 and "lifted" in out, err
    code, _, err = await run_cli("unrevoke", "profile", name, env=stack_env)
    assert code == 1 and "is not revoked" in err

    code, out, _ = await run_cli("audit", "show", mission_id, env=stack_env)
    assert code == 0 and "mission.aborted" in out
    code, out, _ = await run_cli("audit", "verify", env=stack_env)
    assert code == 0 and "audit log OK" in out


async def test_the_audit_log_is_keyed_and_anchored_in_openbao(
    client, worker, stack_env, tmp_path, demo_approver_key
):
    """Red team 12: a copy rewritten whole without the key, or cut short, fails
    `sealed audit verify`, which checks against the key and the anchor in OpenBao."""
    async with demo_approvals(client, demo_approver_key):
        code, out, err = await run_cli("submit", str(DEMO_MISSION), "--wait", env=stack_env)
    assert code == 0, err
    log = Path(stack_env["SEALED_DATA_DIR"]) / "audit.log"
    await asyncio.sleep(1.5)  # the worker anchors off its hot path, within a second
    code, out, err = await run_cli("audit", "verify", env=stack_env)
    assert code == 0 and "audit log OK" in out, err

    lines = log.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.log"
    cut.write_bytes(b"".join(lines[:-3]))
    code, _, err = await run_cli("audit", "verify", "--file", str(cut), env=stack_env)
    assert code == 1 and "truncated" in err

    forged = tmp_path / "forged.log"
    for line in lines:
        record = json.loads(line)
        AuditLog(forged).record(
            AuditEvent.model_validate(
                {k: v for k, v in record.items() if k not in ("seq", "ts", "prev", "hash")}
            )
        )
    code, _, err = await run_cli("audit", "verify", "--file", str(forged), env=stack_env)
    assert code == 1 and "line 1" in err and "hash mismatch" in err
