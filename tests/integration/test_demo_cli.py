"""`sealed demo` against the session stack, as a person runs it: in a terminal
it stops at the comment and asks (approve? [y/N]); with --yes it approves
with the demo approver's key; with neither a terminal nor --yes it says to
pass --yes instead of waiting; and at the end it prints the approval's trail."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys

import httpx
from temporalio.client import Client

from sealed import missions
from sealed.demo import DEMO_APPROVER
from sealed.devstack import StackInfo
from tests.integration.conftest import run_cli

PROMPT = b"approve? [y/N]:"


def mission_of(out: str) -> str:
    found = re.search(r"^submitted (mission-ticket-triage-[0-9a-f]{8}) ", out, re.M)
    assert found, out
    return found[1]


async def comments_on_ticket_1(stack: StackInfo, mission_id: str) -> list[dict[str, str]]:
    async with httpx.AsyncClient() as http:
        ticket = (await http.get(f"{stack.tickets_url}/tickets/1")).json()
    return [c for c in ticket["comments"] if mission_id in (c["idempotency_key"] or "")]


async def test_demo_yes_approves_with_the_demo_key_and_prints_the_trail(
    client: Client, worker, stack: StackInfo, stack_env: dict[str, str]
):
    code, out, err = await run_cli("demo", "--yes", env=stack_env)
    assert code == 0, out + err
    mission_id = mission_of(out)
    assert "approval needed:" in out and "tickets.comment (high)" in out
    assert re.search(r"digest: +[0-9a-f]{64}", out)
    assert f"approving as {DEMO_APPROVER} (--yes)" in out
    assert f"approval-call-3-0: approved by {DEMO_APPROVER}" in out
    assert "approve?" not in out
    assert "aborted (5 turns, 5 tool calls)" in out
    # The request is said after the model's call that led to it.
    assert out.index("-> tickets.comment(") < out.index("approval needed:")
    trail = out.split("approval: request -> decision -> credential issued -> revoked\n")[1]
    kinds = [line.split()[1] for line in trail.splitlines() if line.startswith("  approval-")]
    assert kinds[:2] == ["approval.requested", "approval.decided"]
    assert kinds.count("credential.issued") == kinds.count("credential.revoked") == 2
    assert kinds.index("credential.revoked") > kinds.index("credential.issued")
    assert len(await comments_on_ticket_1(stack, mission_id)) == 1


async def run_in_terminal(env: dict[str, str], answer: bytes, *args: str) -> tuple[int, str]:
    """`sealed demo` with a terminal for stdin: waits for the prompt, answers."""
    controller, terminal = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sealed",
        "demo",
        *args,
        stdin=terminal,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **env},
    )
    os.close(terminal)
    seen = b""
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            while PROMPT not in seen:
                chunk = await proc.stdout.read(4096)
                assert chunk, seen.decode()
                seen += chunk
            os.write(controller, answer)
            seen += await proc.stdout.read()
            code = await proc.wait()
    finally:
        os.close(controller)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, seen.decode()


async def test_answered_yes_in_the_terminal_the_comment_runs(
    client: Client, worker, stack: StackInfo, stack_env: dict[str, str]
):
    code, out = await run_in_terminal(stack_env, b"y\n")
    assert code == 0, out
    mission_id = mission_of(out)
    assert f"approval-call-3-0: approved by {DEMO_APPROVER}" in out
    assert len(await comments_on_ticket_1(stack, mission_id)) == 1


async def test_answered_no_the_model_is_told_and_the_mission_finishes(
    client: Client, worker, stack: StackInfo, stack_env: dict[str, str]
):
    code, out = await run_in_terminal(stack_env, b"n\n")
    assert code == 0, out
    mission_id = mission_of(out)
    assert out.index("approval needed:") < out.index("approve? [y/N]")
    assert f"approval-call-3-0: denied by {DEMO_APPROVER}" in out
    assert f"tickets.comment [error]: tool refused: {DEMO_APPROVER} denied this call" in out
    assert "aborted (5 turns, 5 tool calls)" in out
    assert await comments_on_ticket_1(stack, mission_id) == []
    [state] = await missions.approvals(client, mission_id)
    assert state.status == "denied"


async def test_without_a_terminal_or_yes_it_says_to_pass_yes(
    client: Client, stack_env: dict[str, str]
):
    before = await missions.list_missions(client, limit=1000)
    code, out, err = await run_cli("demo", env=stack_env)  # stdin: the test's, not a terminal
    assert code == 2 and "pass --yes" in err and out == ""
    after = await missions.list_missions(client, limit=1000)
    assert len(after) == len(before)  # nothing submitted


async def test_the_demo_approver_cannot_submit_the_demo(stack_env: dict[str, str]):
    env = {**stack_env, "SEALED_OPERATOR": DEMO_APPROVER}
    code, _, err = await run_cli("demo", "--yes", env=env)
    assert code == 2 and "may not approve" in err and "SEALED_OPERATOR" in err
