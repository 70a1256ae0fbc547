"""The user's first commands, as a user runs them: `sealed demo` on a machine
with no stack running, and `sealed dev` started twice then stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sealed.demo import DEMO_APPROVER, demo_key_file
from sealed.devstack import find_running
from tests.integration.test_demo_mission import DEMO_APPROVAL_CHAIN


def sealed(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealed", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def test_demo_starts_the_stack_runs_the_mission_and_cleans_up(fresh_env):
    data_dir = Path(fresh_env["SEALED_DATA_DIR"])
    done = sealed("demo", "--yes", "--exit", env=fresh_env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "starting the embedded stack" in out
    assert "model: Let me look at the queue. -> tickets.list({})" in out
    # The comment waited for the demo approver, whom the stack made on its first start.
    key_file = demo_key_file(data_dir)
    assert f"registered approver '{DEMO_APPROVER}' (its key: {key_file})" in out
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "approval needed:" in out and "tickets.comment (high)" in out
    assert f"approval-call-3-0: approved by {DEMO_APPROVER}" in out
    assert "aborted (5 turns, 5 tool calls)" in out
    ui = fresh_env["SEALED_TEMPORAL_UI_URL"]
    assert f"Web UI: {ui}/namespaces/default/workflows/mission-ticket-triage-" in out
    trail = out.split("approval: request -> decision -> credential issued -> revoked\n")[1]
    assert [line.split()[1] for line in trail.splitlines()] == DEMO_APPROVAL_CHAIN
    assert find_running(data_dir) is None

    # A second start reuses the key and its registration; the demo runs again.
    key = key_file.read_bytes()
    again = sealed("demo", "--yes", "--exit", env=fresh_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "registered approver" not in again.stdout
    assert f"approval-call-3-0: approved by {DEMO_APPROVER}" in again.stdout
    assert key_file.read_bytes() == key


def test_demo_without_a_terminal_or_yes_says_to_pass_yes(fresh_env):
    done = sealed("demo", env=fresh_env, timeout=60)
    assert done.returncode == 2
    assert "pass --yes" in done.stderr and done.stdout == ""
    assert not Path(fresh_env["SEALED_DATA_DIR"]).exists()  # nothing was started


def test_dev_twice_then_ctrl_c_stops_every_server(fresh_env):
    dev = subprocess.Popen(
        [sys.executable, "-m", "sealed", "dev"],
        env=fresh_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        data_dir = Path(fresh_env["SEALED_DATA_DIR"])
        deadline = time.monotonic() + 120
        while (info := find_running(data_dir)) is None or "worker" not in info.pids:
            assert dev.poll() is None, dev.stdout.read() if dev.stdout else ""
            assert time.monotonic() < deadline, "the stack did not come up"
            time.sleep(0.2)

        second = sealed("dev", env=fresh_env, timeout=60)
        assert second.returncode == 0
        assert "already running" in second.stdout
        assert fresh_env["SEALED_TEMPORAL_ADDRESS"] in second.stdout

        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=60) == 0
        output = dev.stdout.read() if dev.stdout else ""
        assert "embedded stack up" in output and "stopping the stack" in output
        time.sleep(0.5)
        assert pids_alive(list(info.pids.values())) == []
        assert find_running(data_dir) is None
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
