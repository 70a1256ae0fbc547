"""One real embedded stack (Temporal dev server, OpenBao, ticket service) per
test session, on free ports; tests run their own workers against it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from sealed.client import connect
from sealed.config import DEFAULT_TOOL_MODULES, Settings
from sealed.devstack import DevStack, Ports, StackInfo
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import load_profile
from sealed.models import MissionSpec
from sealed.workers.worker import build_worker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    data_dir = tmp_path_factory.mktemp("stack")
    ports = Ports.free()
    writers = ("support-agent", "tester")
    with DevStack(
        data_dir, ports, worker=False, ticket_writers=writers, say=lambda _: None
    ) as info:
        admin = VaultAdmin(info.vault_addr, (data_dir / "vault-root-token").read_text())
        admin.apply_profile(load_profile(TESTER_PROFILE))
        yield info


TESTER_PROFILE = Path(__file__).parents[1] / "data" / "profiles" / "tester.yaml"
TOOL_MODULES = [*DEFAULT_TOOL_MODULES, "tests.slow_tools", "tests.containment_tools"]


@pytest.fixture(scope="session")
def admin_for_tests(stack: StackInfo) -> VaultAdmin:
    return VaultAdmin(stack.vault_addr, (Path(stack.data_dir) / "vault-root-token").read_text())


@pytest.fixture(scope="session")
def stack_settings(stack: StackInfo) -> Settings:
    return stack.settings(tool_modules=TOOL_MODULES)


@pytest.fixture(scope="session")
def stack_env(stack: StackInfo, monkeypatch_session: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment of this process and its children pointed at the stack."""
    from sealed.config import get_settings

    env = {**stack.env(), "SEALED_TOOL_MODULES": json.dumps(TOOL_MODULES)}
    for key, value in env.items():
        monkeypatch_session.setenv(key, value)
    get_settings.cache_clear()
    return env


@pytest.fixture(scope="session")
def monkeypatch_session() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="session")
async def client(stack_settings: Settings) -> Client:
    return await connect(stack_settings)


@pytest.fixture(scope="session")
async def worker(
    client: Client, stack_settings: Settings, stack_env: dict[str, str]
) -> AsyncIterator[Worker]:
    """An in-process worker with the real tools, the real OpenBao backend."""
    w = build_worker(client, stack_settings)
    async with w:
        yield w


def tickets_token(stack: StackInfo) -> str:
    return (Path(stack.data_dir) / "tickets-token").read_text().strip()


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """The real `sealed` command in a child process (the in-process worker keeps
    running on this loop meanwhile)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sealed",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def stalling_mission(profile: str) -> MissionSpec:
    """A mission under `profile` whose one tool call waits five minutes: something
    running to abort or revoke."""
    return MissionSpec.model_validate(
        {
            "name": "stalling",
            "profile": profile,
            "goal": "wait",
            "tools": ["test.stall"],
            "model": {
                "provider": "scripted",
                "script": {
                    "turns": [
                        {"tool_calls": [{"name": "test.stall", "arguments": {"seconds": 300}}]}
                    ]
                },
            },
        }
    )
