"""`sealed dev` and `sealed demo`: the embedded stack, and the demo mission on it."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from sealed import missions
from sealed.audit import AuditLog
from sealed.cli._shared import DataDir, fail, host_port, settings
from sealed.cli.audit import describe_record
from sealed.cli.missions import load_mission_or_exit, print_result
from sealed.client import connect
from sealed.config import Settings
from sealed.demo import DEMO_MISSION
from sealed.devstack import DevStack, Ports, StackError, StackInfo, find_running
from sealed.models import MissionResult, MissionStatus


def _ports(settings: Settings) -> Ports:
    vault = host_port(settings.vault_addr)[1]
    return Ports(
        temporal=host_port(settings.temporal_address)[1],
        ui=host_port(settings.temporal_ui_url)[1],
        vault=vault,
        vault_cluster=vault + 1,  # raft's listener beside the API, as OpenBao's docs do
        tickets=host_port(settings.tickets_url)[1],
        codec=host_port(settings.codec_url)[1],
    )


def _print_stack(info: StackInfo) -> None:
    typer.echo(f"  Temporal     {info.temporal_address}")
    typer.echo(f"  Web UI       {info.ui_url}")
    typer.echo(f"  OpenBao      {info.vault_addr}")
    typer.echo(f"  tickets      {info.tickets_url}")
    typer.echo(f"  codec        {info.codec_url} (bearer token in {info.data_dir / 'codec-token'};")
    typer.echo(f"               sign in for the Web UI at {info.codec_url}/login)")
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


def demo(
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="start the stack without asking")
    ] = False,
    exit_: Annotated[
        bool, typer.Option("--exit", help="stop the stack when the mission ends")
    ] = False,
    mission: Annotated[Path, typer.Option(help="mission spec to run")] = DEMO_MISSION,
) -> None:
    """Start the embedded stack if needed, run the demo mission and follow it live."""
    current = settings()
    stack: DevStack | None = None
    if find_running(current.data_dir) is None:
        if not yes and not typer.confirm("No stack is running. Start the embedded stack?"):
            raise typer.Exit(1)
        typer.echo("starting the embedded stack…")
        stack, info = _start_stack(current)
        _print_stack(info)
        current = settings()
    try:
        spec, profile = load_mission_or_exit(mission, current)

        async def go() -> MissionResult:
            client = await connect(current)
            handle = await missions.submit(client, current, spec, profile=profile)
            typer.secho(f"submitted {handle.id} ({spec.name}, profile {spec.profile})", bold=True)
            return await missions.follow(handle, typer.echo)

        result = asyncio.run(go())
        print_result(result, current)
        trail = AuditLog(current.audit_path()).events(result.mission_id)
        typer.echo(f"audit trail ({len(trail)} events; `sealed audit show {result.mission_id}`):")
        for record in trail:
            typer.echo(f"  {describe_record(record)}")
        if stack is not None and not exit_ and sys.stdin.isatty():
            typer.echo("The stack stays up so the link works; Ctrl-C stops it.")
            _wait_for_interrupt(stack)
    finally:
        if stack is not None:
            stack.stop()
    if result.status != MissionStatus.COMPLETED:
        raise typer.Exit(1)
