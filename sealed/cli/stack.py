"""`sealed dev` and `sealed demo`: the embedded stack, and the demo mission on it."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

from sealed import missions
from sealed.approvals import ApprovalState
from sealed.approvals.decision import Verdict
from sealed.approvals.keys import ApproverKeyError, fingerprint, public_text
from sealed.audit import AuditLog
from sealed.cli._shared import DataDir, fail, host_port, settings
from sealed.cli.approvals import describe
from sealed.cli.audit import approval_trail, describe_record
from sealed.cli.missions import load_mission_or_exit, print_result
from sealed.client import connect
from sealed.codec.signin import TICKET_LIFETIME, SignInUnavailable, signin_link
from sealed.config import CODEC_TOKEN_FILE, Settings
from sealed.demo import DEMO_APPROVER, DEMO_MISSION, decision, demo_key
from sealed.devstack import DevStack, Ports, StackError, StackInfo, find_running
from sealed.models import MissionResult, MissionStatus
from sealed.terminal import printable


def _ports(settings: Settings) -> Ports:
    vault = host_port(settings.vault_addr)[1]
    return Ports(
        temporal=host_port(settings.temporal_address)[1],
        ui=host_port(settings.temporal_ui_url)[1],
        vault=vault,
        vault_cluster=vault + 1,  # raft's listener beside the API, as OpenBao's docs do
        tickets=host_port(settings.tickets_url)[1],
        codec=host_port(settings.codec_url)[1],
        inbox=(
            host_port(settings.approval_inbox_url)[1]
            if settings.approval_inbox_url
            else Ports().inbox
        ),
    )


_ONE_USE = f"one use, within {TICKET_LIFETIME / 60:.0f} minutes"


def _stack_token(data_dir: Path) -> str | None:
    """The embedded stack's codec token (its codec server reads the same file)."""
    try:
        return (data_dir / CODEC_TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


def _signin(codec_url: str, token: str | None, page: str) -> str | None:
    """A one-click link that signs a browser in to the codec server and opens
    `page` of the Web UI, decoded; None where the codec server gives none (not
    the embedded stack's, or not running)."""
    if token is None:
        return None
    try:
        return signin_link(codec_url, token, page)
    except SignInUnavailable:
        return None


def _print_stack(info: StackInfo, *, signin: bool = True) -> None:
    typer.echo(f"  Temporal     {info.temporal_address}")
    typer.echo(f"  Web UI       {info.ui_url}")
    page = f"{info.ui_url}/namespaces/default/workflows"
    link = _signin(info.codec_url, _stack_token(info.data_dir), page) if signin else None
    if link is not None:
        typer.echo(f"  sign in      {link}")
        typer.echo(f"               (the Web UI, decoding payloads: {_ONE_USE};")
        typer.echo("               `sealed dev` again prints a new one)")
    typer.echo(f"  OpenBao      {info.vault_addr}")
    typer.echo(f"  tickets      {info.tickets_url}")
    typer.echo(
        f"  codec        {info.codec_url} (bearer token in {info.data_dir / CODEC_TOKEN_FILE};"
    )
    typer.echo(f"               a browser signs in with it at {info.codec_url}/login)")
    typer.echo(f"  approvals    {info.inbox_url} (the workers' webhook; `sealed pending --inbox`)")
    typer.echo(f"  data         {info.data_dir}")


def _wait_for_interrupt(stack: DevStack) -> None:
    """Until Ctrl-C or SIGTERM; a child that dies stops the whole stack."""
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop:
        dead = stack.check()
        if dead:
            typer.secho(f"{', '.join(dead)} exited: stopping the stack", fg=typer.colors.RED)
            break
        time.sleep(0.5)
    typer.echo("stopping the stack…")


def _start_stack(settings: Settings) -> tuple[DevStack, StackInfo]:
    stack = DevStack(settings.data_dir, _ports(settings), say=typer.echo)
    try:
        return stack, stack.start()
    except StackError as exc:
        raise fail(str(exc)) from exc


def dev(data_dir: DataDir = None) -> None:
    """Start the embedded stack (Temporal, OpenBao, ticket service, worker) until Ctrl-C."""
    current = Settings() if data_dir is None else Settings(data_dir=data_dir)
    running = find_running(current.data_dir)
    if running is not None:
        typer.echo(f"the stack is already running (pid {running.owner_pid}):")
        _print_stack(running)
        return
    stack, info = _start_stack(current)
    try:
        typer.secho("embedded stack up:", fg=typer.colors.GREEN)
        _print_stack(info)
        typer.echo("Ctrl-C stops it.")
        _wait_for_interrupt(stack)
    finally:
        stack.stop()


YES_HELP = "start the stack and approve the demo's call (the demo approver's key) without asking"


def demo(
    yes: Annotated[bool, typer.Option("--yes", "-y", help=YES_HELP)] = False,
    exit_: Annotated[
        bool, typer.Option("--exit", help="stop the stack when the mission ends")
    ] = False,
    mission: Annotated[Path, typer.Option(help="mission spec to run")] = DEMO_MISSION,
) -> None:
    """Start the embedded stack if needed, run the demo mission and follow it live.

    The mission pauses before its ticket comment for a human approval: asked
    here (approve? [y/N]), or given with the demo approver's key with --yes."""
    current = settings()
    if current.operator == DEMO_APPROVER:
        raise fail(
            f"the operator is '{DEMO_APPROVER}', who approves the demo's call: a mission's "
            "submitter may not approve it (set SEALED_OPERATOR to your own name)",
            code=2,
        )
    if not yes and not sys.stdin.isatty():
        raise fail(
            "the demo asks in the terminal before its ticket comment runs (approve? [y/N]), "
            "and stdin is not one: pass --yes to approve with the demo approver's key",
            code=2,
        )
    stack: DevStack | None = None
    if find_running(current.data_dir) is None:
        if not yes and not typer.confirm("No stack is running. Start the embedded stack?"):
            raise typer.Exit(1)
        typer.echo("starting the embedded stack…")
        stack, info = _start_stack(current)
        _print_stack(info, signin=False)  # the link to the mission comes at the end
        current = settings()
    try:
        spec, profile = load_mission_or_exit(mission, current)
        try:
            key = demo_key(current.data_dir)
        except ApproverKeyError as exc:
            raise fail(f"no demo approver key ({exc}): restart the stack (`sealed dev`)") from exc

        async def go() -> MissionResult:
            client = await connect(current)
            handle = await missions.submit(client, current, spec, profile=profile)
            typer.secho(f"submitted {handle.id} ({spec.name}, profile {spec.profile})", bold=True)
            answer = _approver(client, key, asking=not yes)
            return await missions.follow(handle, typer.echo, answer)

        result = asyncio.run(go())
        print_result(result, current)
        trail = AuditLog(current.audit_path()).events(result.mission_id)
        typer.echo(f"audit trail ({len(trail)} events; `sealed audit show {result.mission_id}`):")
        for record in trail:
            typer.echo(f"  {describe_record(record)}")
        chain = approval_trail(trail)
        if chain:
            typer.echo("approval: request -> decision -> credential issued -> revoked")
            for line in chain:
                typer.echo(f"  {line}")
        stays_up = stack is None or (not exit_ and sys.stdin.isatty())
        if stays_up:
            _print_signin(current, missions.ui_link(current, result.mission_id))
        if stack is not None and not exit_ and sys.stdin.isatty():
            typer.echo("The stack stays up so the link works; Ctrl-C stops it.")
            _wait_for_interrupt(stack)
    finally:
        if stack is not None:
            stack.stop()
    # The demo's injected exfiltration is meant to be stopped by a directive.
    if result.status != MissionStatus.COMPLETED and result.violation is None:
        raise typer.Exit(1)


def _print_signin(current: Settings, page: str) -> None:
    """How to open the mission in the Web UI with its payloads decoded."""
    token = (
        current.codec_token.get_secret_value()
        if current.codec_token is not None
        else _stack_token(current.data_dir)
    )
    link = _signin(current.codec_url, token, page)
    if link is not None:
        typer.secho(
            f"Open the mission in the Web UI, decoded ({_ONE_USE}; it signs this "
            "browser in to the codec server):",
            bold=True,
        )
        typer.echo(f"  {link}")
    else:
        typer.echo(
            f"To read its payloads in the Web UI, sign in at {current.codec_url}/login "
            "with the codec token, then open the link above."
        )


def _approver(
    client: Client, key: Ed25519PrivateKey, *, asking: bool
) -> Callable[[ApprovalState], Awaitable[None]]:
    """What the demo does with a request its mission waits on: show it, ask
    (or, not asking, approve), and send the demo approver's signed decision."""

    async def answer(state: ApprovalState) -> None:
        request = state.request
        typer.secho("approval needed:", fg=typer.colors.YELLOW, bold=True)
        for line in describe(state):
            typer.echo(f"  {line}")
        if DEMO_APPROVER not in request.approvers:
            typer.echo(
                f"  the demo approver may not decide it: `sealed approve {request.mission_id} "
                f"{request.id} --as NAME --key FILE` (or `sealed deny`)"
            )
            return
        if asking:
            verdict: Verdict = "approve" if await _confirm("approve?") else "deny"
        else:
            verdict = "approve"
            typer.echo(f"  approving as {DEMO_APPROVER} (--yes)")
        reason = "" if verdict == "approve" else "denied at the demo's prompt"
        try:
            status = await missions.decide(client, decision(key, state, verdict, reason=reason))
        except missions.DecisionRefused as exc:
            typer.secho(f"  refused: {printable(str(exc))}", fg=typer.colors.RED)
            return
        said = "approved" if verdict == "approve" else "denied"
        mine = fingerprint(public_text(key))
        typer.echo(
            f"  {request.id}: {said} by {DEMO_APPROVER} (key {mine}); the request is {status}"
        )

    return answer


async def _confirm(question: str) -> bool:
    """typer.confirm (default no) without blocking the loop: in a daemon thread,
    so a mission that ends meanwhile (or Ctrl-C) is not held up by the prompt."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[bool] = loop.create_future()

    def settle(value: bool | None, error: BaseException | None) -> None:
        if answered.done():
            return
        if error is not None:
            answered.set_exception(error)
        else:
            answered.set_result(bool(value))

    def ask() -> None:
        try:
            value = typer.confirm(question, default=False)
        except BaseException as exc:  # click.Abort on EOF or Ctrl-D: told to the loop
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=ask, name="demo-prompt", daemon=True).start()
    return await answered
