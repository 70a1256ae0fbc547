"""The stack's child processes: each started with its output in its own log,
dying with the process that started it, waited on until ready (or reported
with its log's tail if it exits first), stopped in reverse order."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    pass


def _die_with_parent() -> None:
    # If the process that started the stack dies (even by SIGKILL), so do its servers.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    def __init__(self, logs: Path, say: Callable[[str], None]) -> None:
        self.logs = logs
        self._say = say
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def log_of(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        # Logs name missions, tools and addresses: the owner's to read only.
        fd = os.open(self.log_of(name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            self.procs[name] = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
                preexec_fn=_die_with_parent,
            )

    def wait(self, name: str, ready: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log = self.log_of(name)
                tail = log.read_text(errors="replace")[-2000:]
                raise StackError(f"{name} exited with {proc.returncode}; log {log}:\n{tail}")
            with contextlib.suppress(OSError, httpx.HTTPError):
                if ready():
                    return
            time.sleep(0.1)
        raise StackError(f"{name} was not ready after {timeout:.0f} s")

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self) -> None:
        for name, proc in reversed(list(self.procs.items())):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._say(f"{name} did not stop in 10 s: killing it")
                    proc.kill()
                    proc.wait()
        self.procs.clear()
