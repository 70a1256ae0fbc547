"""One real embedded stack (Temporal dev server, OpenBao, ticket service) per
test session, on free ports; tests run their own workers against it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.worker import Worker

from sealed import missions
from sealed.approvals.decision import Verdict
from sealed.client import connect
from sealed.config import DEFAULT_TOOL_MODULES, Settings
from sealed.demo import DEMO_APPROVER, decision, demo_key
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


@pytest.fixture(scope="session")
def demo_approver_key(stack: StackInfo) -> Ed25519PrivateKey:
    """The demo approver's key, as the stack made and registered it."""
    return demo_key(Path(stack.data_dir))


@contextlib.asynccontextmanager
async def demo_approvals(
    client: Client,
    key: Ed25519PrivateKey,
    verdict: Verdict = "approve",
    prefix: str = "mission-ticket-triage-",
    after: float = 0.0,
) -> AsyncIterator[list[str]]:
    """Meanwhile, each request that a mission whose id starts with `prefix`
    waits on and the demo approver may decide is decided (signed with `key`),
    `after` seconds once seen: for missions submitted by a command (`sealed
    submit --wait`), whose id the test learns only at the end. Yields the
    requests decided, as mission/request."""
    decided: list[str] = []

    async def watch() -> None:
        while True:
            waiting, _ = await missions.pending_approvals(client)
            for state in waiting:
                request = state.request
                mine = request.mission_id.startswith(prefix) and DEMO_APPROVER in request.approvers
                if mine and f"{request.mission_id}/{request.id}" not in decided:
                    await asyncio.sleep(after)
                    await missions.decide(client, decision(key, state, verdict))
                    decided.append(f"{request.mission_id}/{request.id}")
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    try:
        yield decided
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """The real `sealed` command in a child process (the in-process worker keeps
    running on this loop meanwhile), with no terminal to ask in."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sealed",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
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


@contextlib.contextmanager
def worker_process(
    env: dict[str, str], queue: str, command: tuple[str, ...], log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in a process of its own (`python -m <command>`) serving
    `queue`, its output appended to `log` (or dropped); stopped at the end."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            env={**os.environ, **env, "SEALED_TASK_QUEUE": queue},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)
