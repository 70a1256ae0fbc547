"""Sealed III-C from the command line: `sealed replay` from the server and from
a history exported with the stock `temporal` CLI, and `sealed audit prompt`."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from sealed import missions
from sealed.demo import DEMO_MISSION
from sealed.devstack.binaries import executable
from sealed.spec_loader import load_mission
from tests.integration.conftest import run_cli


async def test_replay_and_the_original_prompt(
    client: Client, worker, stack, stack_settings, stack_env, tmp_path
):
    spec = load_mission(DEMO_MISSION)
    handle = await missions.submit(client, stack_settings, spec)
    await handle.result()

    code, out, err = await run_cli("replay", handle.id, env=stack_env)
    assert code == 0, err
    assert f"{handle.id}: replayed" in out and "deterministic" in out

    exported = tmp_path / "history.json"
    show = await asyncio.create_subprocess_exec(
        str(executable("temporal")),
        "workflow",
        "show",
        "-w",
        handle.id,
        "--address",
        stack.temporal_address,
        "-o",
        "json",
        stdout=exported.open("wb"),
    )
    assert await show.wait() == 0
    code, out, err = await run_cli("replay", "--history-file", str(exported), env=stack_env)
    assert code == 0, err
    assert f"{handle.id}: replayed" in out

    code, out, err = await run_cli("audit", "prompt", handle.id, env=stack_env)
    assert code == 0, err
    assert "(verified)" in out
    assert spec.goal in out and spec.system_prompt in out

    code, _, err = await run_cli("replay", env=stack_env)
    assert code == 2 and "one of them" in err
