"""Sealed III-C from the command line: `sealed replay` from the server and from
a history exported with the stock `temporal` CLI, and `sealed audit prompt`."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client

from sealed import missions
from sealed.demo import DEMO_MISSION, result_deciding
from sealed.devstack import free_ports
from sealed.devstack.binaries import executable
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.kv import KV_MOUNT, prompt_path
from sealed.identity.openbao.stores import VaultPromptStore, read_original
from sealed.pinning import PromptTampered
from sealed.spec_loader import load_mission
from tests.integration.conftest import run_cli


async def test_replay_and_the_original_prompt(
    client: Client, worker, stack, stack_settings, stack_env, tmp_path, demo_approver_key
):
    """The demo mission, its comment approved on the way: a history that
    waited for a signed decision replays."""
    spec = load_mission(DEMO_MISSION)
    handle = await missions.submit(client, stack_settings, spec)
    await result_deciding(client, handle, demo_approver_key)

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

    # From the audit log and the prompt store alone: Temporal is not even reachable.
    no_temporal = {**stack_env, "SEALED_TEMPORAL_ADDRESS": f"127.0.0.1:{free_ports(1)[0]}"}
    code, out, err = await run_cli("audit", "prompt", handle.id, env=no_temporal)
    assert code == 0, err
    assert "(verified)" in out
    assert spec.goal in out and spec.system_prompt in out

    code, _, err = await run_cli("replay", env=stack_env)
    assert code == 2 and "one of them" in err


async def test_a_stored_prompt_without_its_text_is_tampering(
    stack, stack_settings, admin_for_tests
):
    """Not a KeyError retried forever: the turn fails closed as tampered."""
    digest = "ab" * 32
    admin_for_tests.client.secrets.kv.v2.create_or_update_secret(
        path=prompt_path(digest), secret={"not_a_prompt": "x"}, mount_point=KV_MOUNT
    )
    store = VaultPromptStore(AppRoleClient(stack.vault_addr, *stack_settings.worker_approle()))
    with pytest.raises(PromptTampered, match="missing"):
        await store.get(digest)
    with pytest.raises(PromptTampered, match="missing"):
        read_original(admin_for_tests.client, digest)
