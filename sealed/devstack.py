"""The embedded stack: a real Temporal dev server (SQLite in the data
directory, Web UI on), a real OpenBao server (raft storage in the data
directory, its file audit device declared in its config), the demo's ticket
service and a worker, each a child process, started in order and stopped in
reverse.

A second `sealed dev` on the same data directory finds the running stack (its
`stack.json`) instead of clashing on ports."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import hvac
import hvac.exceptions
import requests
from pydantic import BaseModel
from temporalio.client import Client

from sealed.binaries import executable, openbao
from sealed.codec import KeyRing, provision_vault_keys
from sealed.config import Settings
from sealed.identity.vault_admin import VaultAdmin
from sealed.ports import free_ports
from sealed.profiles import load_profile
from sealed.search_attributes import register_search_attributes

_PR_SET_PDEATHSIG = 1
EXAMPLE_PROFILES = Path(__file__).resolve().parents[1] / "examples" / "profiles"


class StackError(RuntimeError):
    pass


class Ports(BaseModel):
    temporal: int = 7233
    ui: int = 8233
    vault: int = 8200
    # Raft's own listener: its own field so a free-port stack never guesses it.
    vault_cluster: int = 8201
    tickets: int = 8765
    codec: int = 8234

    @classmethod
    def free(cls) -> Ports:
        """Ports nobody uses, for a stack beside a running `sealed dev`."""
        temporal, ui, vault, vault_cluster, tickets, codec = free_ports(6)
        return cls(
            temporal=temporal,
            ui=ui,
            vault=vault,
            vault_cluster=vault_cluster,
            tickets=tickets,
            codec=codec,
        )


class StackInfo(BaseModel):
    """What `stack.json` records: enough for any process to use the stack."""

    data_dir: Path
    owner_pid: int
    temporal_address: str
    ui_url: str
    vault_addr: str
    tickets_url: str
    codec_url: str
    pids: dict[str, int]

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointed at this stack."""
        return Settings(
            data_dir=self.data_dir,
            temporal_address=self.temporal_address,
            temporal_ui_url=self.ui_url,
            vault_addr=self.vault_addr,
            tickets_url=self.tickets_url,
            codec_url=self.codec_url,
            **overrides,
        )

    def env(self) -> dict[str, str]:
        """The settings a client or worker needs to use this stack."""
        return {
            "SEALED_DATA_DIR": str(self.data_dir),
            "SEALED_TEMPORAL_ADDRESS": self.temporal_address,
            "SEALED_TEMPORAL_UI_URL": self.ui_url,
            "SEALED_VAULT_ADDR": self.vault_addr,
            "SEALED_TICKETS_URL": self.tickets_url,
            "SEALED_CODEC_URL": self.codec_url,
        }


def _die_with_parent() -> None:
    # If the process that started the stack dies (even by SIGKILL), so do its servers.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _secret_file(path: Path) -> str:
    """A random value kept across restarts, readable only by its owner."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def find_running(data_dir: Path) -> StackInfo | None:
    state = data_dir / "stack.json"
    try:
        info = StackInfo.model_validate_json(state.read_text())
    except (FileNotFoundError, ValueError):
        return None
    temporal_port = int(info.temporal_address.rsplit(":", 1)[1])
    if _alive(info.owner_pid) and _port_open(temporal_port):
        return info
    return None


class DevStack:
    def __init__(
        self,
        data_dir: Path,
        ports: Ports | None = None,
        *,
        worker: bool = True,
        ticket_writers: tuple[str, ...] = ("support-agent",),
        say: Callable[[str], None] = print,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports or Ports()
        self.worker = worker
        self.ticket_writers = ticket_writers
        self.say = say
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.info: StackInfo | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> StackInfo:
        if find_running(self.data_dir) is not None:
            raise StackError(f"a stack is already running on {self.data_dir}")
        busy = [f"{name}={port}" for name, port in self.ports if _port_open(port)]
        if busy:
            raise StackError(f"ports in use by another program: {', '.join(busy)}")
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            self._start_temporal()
            self._start_codec(self._start_vault())
            self._start_tickets()
            self.info = StackInfo(
                data_dir=self.data_dir,
                owner_pid=os.getpid(),
                temporal_address=f"127.0.0.1:{self.ports.temporal}",
                ui_url=f"http://127.0.0.1:{self.ports.ui}",
                vault_addr=f"http://127.0.0.1:{self.ports.vault}",
                tickets_url=f"http://127.0.0.1:{self.ports.tickets}",
                codec_url=f"http://127.0.0.1:{self.ports.codec}",
                pids={},
            )
            if self.worker:
                self._spawn("worker", [sys.executable, "-m", "workers"], env=self.info.env())
            self.info.pids = {name: p.pid for name, p in self._procs.items()}
            (self.data_dir / "stack.json").write_text(self.info.model_dump_json(indent=2))
        except BaseException:
            self.stop()
            raise
        return self.info

    def stop(self) -> None:
        for name, proc in reversed(list(self._procs.items())):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.say(f"{name} did not stop in 10 s: killing it")
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        if self.info is not None:
            (self.data_dir / "stack.json").unlink(missing_ok=True)
            self.info = None

    def __enter__(self) -> StackInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check(self) -> list[str]:
        """Names of the children that have exited."""
        return [name for name, proc in self._procs.items() if proc.poll() is not None]

    # --- the servers -------------------------------------------------------------

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.data_dir / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=_die_with_parent,
        )
        log.close()
        self._procs[name] = proc
        return proc

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        proc = self._procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log = self.data_dir / "logs" / f"{name}.log"
                tail = log.read_text(errors="replace")[-2000:]
                raise StackError(f"{name} exited with {proc.returncode}; log {log}:\n{tail}")
            with contextlib.suppress(OSError, httpx.HTTPError):
                if ready():
                    return
            time.sleep(0.1)
        raise StackError(f"{name} was not ready after {timeout:.0f} s")

    def _start_temporal(self) -> None:
        self._spawn(
            "temporal",
            [
                str(executable("temporal")),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.ports.temporal),
                "--ui-port",
                str(self.ports.ui),
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--log-level",
                "warn",
                "--ui-disable-news-fetch",
                # The Web UI decodes payloads through our codec server (started next).
                "--ui-codec-endpoint",
                f"http://127.0.0.1:{self.ports.codec}",
            ],
        )
        self._wait("temporal", lambda: _port_open(self.ports.temporal))
        address = f"127.0.0.1:{self.ports.temporal}"
        added = asyncio.run(_register(address))
        if added:
            self.say(f"registered search attributes: {', '.join(added)}")

    def _start_vault(self) -> KeyRing:
        storage = self.data_dir / "openbao"
        storage.mkdir(exist_ok=True, mode=0o700)
        config = self.data_dir / "openbao.hcl"
        config.write_text(
            _OPENBAO_CONFIG.format(
                storage=storage,
                port=self.ports.vault,
                cluster_port=self.ports.vault_cluster,
                audit=self.data_dir / "logs" / "openbao-audit.log",
            )
        )
        self._spawn("openbao", [str(openbao()), "server", f"-config={config}"])
        addr = f"http://127.0.0.1:{self.ports.vault}"
        # 501: not initialised yet, 503: sealed: both mean it is listening.
        self._wait(
            "openbao", lambda: httpx.get(f"{addr}/v1/sys/health").status_code in (200, 501, 503)
        )
        root = self._unseal(addr)
        self._wait("openbao", lambda: httpx.get(f"{addr}/v1/sys/health").status_code == 200)
        try:
            return self._provision_vault(VaultAdmin(addr, root))
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            log = self.data_dir / "logs" / "openbao.log"
            raise StackError(f"provisioning OpenBao failed: {exc} (its log: {log})") from exc

    def _unseal(self, addr: str) -> str:
        """Initialise on first start (one key share: a local dev server), unseal
        on every start. The key and root token stay in the data directory, 0600."""
        client = hvac.Client(url=addr)
        key_file = self.data_dir / "vault-unseal-key"
        root_file = self.data_dir / "vault-root-token"
        if not client.sys.is_initialized():
            keys = client.sys.initialize(secret_shares=1, secret_threshold=1)
            for path, value in (
                (key_file, keys["keys_base64"][0]),
                (root_file, keys["root_token"]),
            ):
                path.write_text(value)
                path.chmod(0o600)
        client.sys.submit_unseal_key(key_file.read_text().strip())
        return root_file.read_text().strip()

    def _provision_vault(self, admin: VaultAdmin) -> KeyRing:
        """Idempotent, every start: the KV engine, the codec keys, the worker's
        AppRole (a new secret id each start), the identity token issuer, the
        redaction key, the demo's ticket token and example profiles."""
        admin.ensure_kv()
        keyring = provision_vault_keys(admin.client)
        admin.provision_identity_tokens()
        admin.ensure_redaction_key()
        role_id, secret_id = admin.provision_worker()
        for name, value in (("worker-role-id", role_id), ("worker-secret-id", secret_id)):
            path = self.data_dir / name
            path.write_text(value)
            path.chmod(0o600)
        admin.put_secret("tickets_token", _secret_file(self.data_dir / "tickets-token"))
        for path in sorted(EXAMPLE_PROFILES.glob("*.yaml")):
            profile = load_profile(path)
            if admin.revocation("profile", profile.name) is None:
                admin.apply_profile(profile)
        return keyring

    def _start_codec(self, keyring: KeyRing) -> None:
        self._spawn(
            "codec",
            [
                sys.executable,
                "-m",
                "sealed.codec_server",
                "--port",
                str(self.ports.codec),
                "--allow-origin",
                f"http://127.0.0.1:{self.ports.ui}",
                "--allow-origin",
                f"http://localhost:{self.ports.ui}",
            ],
            env={
                "SEALED_CODEC_TOKEN": _secret_file(self.data_dir / "codec-token"),
                "SEALED_CODEC_KEYS": json.dumps(keyring.to_mapping()),
            },
        )
        url = f"http://127.0.0.1:{self.ports.codec}/healthz"
        self._wait("codec", lambda: httpx.get(url).status_code == 200)

    def _start_tickets(self) -> None:
        self._spawn(
            "tickets",
            [
                sys.executable,
                "-m",
                "sealed.tools.ticket_service",
                "--port",
                str(self.ports.tickets),
                "--data",
                str(self.data_dir / "tickets.json"),
            ],
            env={
                "SEALED_TICKETS_TOKEN": _secret_file(self.data_dir / "tickets-token"),
                "SEALED_TICKETS_IDENTITY_ISSUER": f"http://127.0.0.1:{self.ports.vault}/v1/identity/oidc",
                "SEALED_TICKETS_ALLOWED_PROFILES": ",".join(self.ticket_writers),
            },
        )
        url = f"http://127.0.0.1:{self.ports.tickets}/healthz"
        self._wait("tickets", lambda: httpx.get(url).status_code == 200)


_OPENBAO_CONFIG = """
storage "raft" {{
  path = "{storage}"
  node_id = "sealed-dev"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable = true
}}
audit "file" "sealed" {{
  options {{
    file_path = "{audit}"
  }}
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
log_level = "warn"
"""


async def _register(address: str) -> list[str]:
    # The port opens before the frontend is healthy: retry the first connection.
    # Registering search attributes carries no payload: no codec needed.
    async with asyncio.timeout(60):
        while True:
            try:
                client = await Client.connect(address)
                break
            except RuntimeError:
                await asyncio.sleep(0.2)
    return await register_search_attributes(client)


@contextlib.contextmanager
def running_stack(data_dir: Path, **kwargs: object) -> Iterator[StackInfo]:
    """The stack already running on `data_dir`, or a new one for this block."""
    found = find_running(data_dir)
    if found is not None:
        yield found
        return
    with DevStack(data_dir, **kwargs) as info:  # type: ignore[arg-type]
        yield info
