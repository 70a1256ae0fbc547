"""The embedded stack: a real Temporal dev server (SQLite in the data
directory, Web UI on), a real OpenBao server, the codec server, the Web UI's
gateway (the UI configured to send the codec server's cookie), the demo's
ticket service, the approval inbox (the workers' approval webhook) and a
worker, each a child process, started in order and stopped in reverse.
OpenBao is provisioned by the same bootstrap production uses
(sealed.identity.bootstrap).

A second `sealed dev` on the same data directory finds the running stack (its
`stack.json`) instead of clashing on ports."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from temporalio.client import Client

from sealed.approvals.keys import ApproverKeyError, public_text
from sealed.config import CODEC_TOKEN_FILE, INBOX_TOKEN_FILE, WEBHOOK_SECRET_FILE
from sealed.demo import DEMO_APPROVER, EXAMPLE_PROFILES, TICKET_WRITERS, demo_key, demo_key_file
from sealed.devstack.binaries import executable
from sealed.devstack.children import Children, StackError
from sealed.devstack.info import STATE_FILE, StackInfo, find_running
from sealed.devstack.openbao import start_openbao
from sealed.devstack.ports import Ports, free_ports, port_open
from sealed.files import private_random
from sealed.identity.bootstrap import BootstrapError, bootstrap
from sealed.identity.openbao.admin import VaultAdmin
from sealed.search_attributes import register_search_attributes

TICKETS_TOKEN_FILE = "tickets-token"


class DevStack:
    def __init__(
        self,
        data_dir: Path,
        ports: Ports | None = None,
        *,
        worker: bool = True,
        ticket_writers: tuple[str, ...] = TICKET_WRITERS,
        say: Callable[[str], None] = print,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports or Ports()
        self.worker = worker
        self.ticket_writers = ticket_writers
        self.say = say
        self.children = Children(self.data_dir / "logs", say)
        self.info: StackInfo | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> StackInfo:
        if find_running(self.data_dir) is not None:
            raise StackError(f"a stack is already running on {self.data_dir}")
        busy = [f"{name}={port}" for name, port in self.ports if port_open(port)]
        if busy:
            raise StackError(f"ports in use by another program: {', '.join(busy)}")
        # The stack's state (tokens, logs, databases) is its owner's alone.
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        self.children.logs.mkdir(exist_ok=True, mode=0o700)
        if not self.ports.ui_backend:
            self.ports = self.ports.model_copy(update={"ui_backend": free_ports(1)[0]})
        self.info = info = StackInfo(
            data_dir=self.data_dir,
            owner_pid=os.getpid(),
            temporal_address=f"127.0.0.1:{self.ports.temporal}",
            ui_url=f"http://127.0.0.1:{self.ports.ui}",
            vault_addr=f"http://127.0.0.1:{self.ports.vault}",
            tickets_url=f"http://127.0.0.1:{self.ports.tickets}",
            codec_url=f"http://127.0.0.1:{self.ports.codec}",
            inbox_url=f"http://127.0.0.1:{self.ports.inbox}",
            pids={},
        )
        try:
            self._start_temporal()
            self._start_vault()
            self._start_codec(info)
            self._start_ui_gateway(info)
            self._start_tickets()
            self._start_inbox()
            if self.worker:
                self.children.spawn(
                    "worker", [sys.executable, "-m", "sealed.workers"], info.worker_env()
                )
            info.pids = {name: p.pid for name, p in self.children.procs.items()}
            # Written last: until then no other process takes the stack for running.
            (self.data_dir / STATE_FILE).write_text(info.model_dump_json(indent=2))
        except BaseException:
            self.stop()
            raise
        return info

    def stop(self) -> None:
        self.children.stop()
        if self.info is not None:
            (self.data_dir / STATE_FILE).unlink(missing_ok=True)
            self.info = None

    def __enter__(self) -> StackInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check(self) -> list[str]:
        """Names of the children that have exited."""
        return self.children.exited()

    # --- the servers -------------------------------------------------------------

    def _start_temporal(self) -> None:
        self.children.spawn(
            "temporal",
            [
                str(executable("temporal")),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.ports.temporal),
                # Its own UI, behind the gateway that users open (on ports.ui).
                "--ui-port",
                str(self.ports.ui_backend),
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
        self.children.wait("temporal", lambda: port_open(self.ports.temporal))
        added = asyncio.run(_register(f"127.0.0.1:{self.ports.temporal}"))
        if added:
            self.say(f"registered search attributes: {', '.join(added)}")

    def _start_vault(self) -> None:
        """OpenBao, provisioned on every start by the bootstrap production runs
        (idempotent; new secret ids each start) with the example profiles, the
        demo's ticket token and the demo approver: its key made on the first
        start (data_dir/approvers, 0600) and reused, its public key registered."""
        addr, root = start_openbao(self.children, self.data_dir, self.ports)
        admin = VaultAdmin(addr, root)
        tickets_token = private_random(self.data_dir / TICKETS_TOKEN_FILE)
        try:
            approver = public_text(demo_key(self.data_dir, create=True))
        except (ApproverKeyError, OSError) as exc:
            raise StackError(
                f"the demo approver's key {demo_key_file(self.data_dir)}: {exc} "
                "(move it away and start again to make a new one)"
            ) from exc
        try:
            # Every process of an earlier start is gone: so are their logins.
            report, logins = bootstrap(
                admin,
                profiles=EXAMPLE_PROFILES,
                values={"tickets_token": tickets_token},
                approvers={DEMO_APPROVER: approver},
                replace_logins=True,
            )
        except BootstrapError as exc:
            log = self.children.log_of("openbao")
            raise StackError(f"provisioning OpenBao failed: {exc} (its log: {log})") from exc
        for login in logins:
            login.write(self.data_dir)
        if report.profiles_revoked:
            self.say(f"revoked, not applied: {', '.join(report.profiles_revoked)}")
        if report.approvers_registered:
            self.say(
                f"registered approver '{DEMO_APPROVER}' (its key: {demo_key_file(self.data_dir)})"
            )

    def _start_codec(self, info: StackInfo) -> None:
        """`sealed codec-server`, as production runs it: the keys read from
        OpenBao with its own login, which can read nothing else."""
        self.children.spawn(
            "codec",
            [
                sys.executable,
                "-m",
                "sealed",
                "codec-server",
                "--allow-origin",
                f"http://localhost:{self.ports.ui}",
                # One-click sign-in links into this stack's Web UI (`sealed demo`).
                "--signin-redirect",
                info.ui_url,
            ],
            env={
                **info.env(),
                "SEALED_CODEC_TOKEN": private_random(self.data_dir / CODEC_TOKEN_FILE),
            },
        )
        url = f"http://127.0.0.1:{self.ports.codec}/healthz"
        self.children.wait("codec", lambda: httpx.get(url).status_code == 200)

    def _start_ui_gateway(self, info: StackInfo) -> None:
        """The Web UI users open (info.ui_url): the dev server's, told to send the
        codec server's session cookie with /decode (sealed.devstack.ui_gateway)."""
        self.children.spawn(
            "ui",
            [
                sys.executable,
                "-m",
                "sealed.devstack.ui_gateway",
                "--port",
                str(self.ports.ui),
                "--upstream",
                f"http://127.0.0.1:{self.ports.ui_backend}",
                "--codec",
                info.codec_url,
            ],
        )
        # Through the gateway: the dev server's UI is up behind it too.
        url = f"{info.ui_url}/api/v1/settings"
        self.children.wait("ui", lambda: httpx.get(url).status_code == 200)

    def _start_tickets(self) -> None:
        self._start_service(
            "tickets",
            "sealed.tools.ticket_service",
            self.ports.tickets,
            "tickets.json",
            {
                "SEALED_TICKETS_TOKEN": private_random(self.data_dir / TICKETS_TOKEN_FILE),
                "SEALED_TICKETS_IDENTITY_ISSUER": f"http://127.0.0.1:{self.ports.vault}/v1/identity/oidc",
                "SEALED_TICKETS_ALLOWED_PROFILES": ",".join(self.ticket_writers),
            },
        )

    def _start_inbox(self) -> None:
        """The receiver the workers' approval webhook POSTs to (`sealed pending --inbox`)."""
        self._start_service(
            "inbox",
            "sealed.approvals.inbox",
            self.ports.inbox,
            "approval-inbox.json",
            {
                "SEALED_INBOX_SECRET": private_random(self.data_dir / WEBHOOK_SECRET_FILE),
                "SEALED_INBOX_TOKEN": private_random(self.data_dir / INBOX_TOKEN_FILE),
            },
        )

    def _start_service(
        self, name: str, module: str, port: int, data_file: str, env: dict[str, str]
    ) -> None:
        """One of the stack's small HTTP services, up once its /healthz answers."""
        command = [sys.executable, "-m", module, "--port", str(port)]
        self.children.spawn(name, [*command, "--data", str(self.data_dir / data_file)], env=env)
        url = f"http://127.0.0.1:{port}/healthz"
        self.children.wait(name, lambda: httpx.get(url).status_code == 200)


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
