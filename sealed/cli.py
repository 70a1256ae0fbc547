"""The `sealed` command."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditLog
from sealed.audit_cli import audit_app, describe_record
from sealed.config import Settings
from sealed.devstack import DevStack, Ports, StackError, StackInfo, find_running
from sealed.identity.aws import AwsSts
from sealed.identity.vault_admin import ProfileRevoked, RevocationKind, VaultAdmin
from sealed.logging import configure_logging
from sealed.models import MissionResult, MissionSpec, MissionStatus
from sealed.profiles import load_profile
from sealed.redaction.cli import redact
from sealed.revocations import Revoker, SubmissionRefused, ensure_submittable
from sealed.spec_loader import SpecError, load_mission
from workers.client import connect

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
profiles_app = typer.Typer(no_args_is_help=True, help="Agent profiles: identity, tools, grants.")
revoke_app = typer.Typer(no_args_is_help=True, help="Revoke a profile or one mission.")
app.add_typer(profiles_app, name="profiles")
app.add_typer(revoke_app, name="revoke")
app.add_typer(audit_app, name="audit")
app.command("redact")(redact)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DEMO_MISSION = EXAMPLES / "missions" / "triage.yaml"

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="where the embedded stack keeps its state")
]


def _settings(data_dir: Path | None = None) -> Settings:
    """Settings, pointed at the running dev stack when there is one."""
    base = Settings() if data_dir is None else Settings(data_dir=data_dir)
    info = find_running(base.data_dir)
    return base if info is None else info.settings()


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


def _ports(settings: Settings) -> Ports:
    vault = _host_port(settings.vault_addr)[1]
    return Ports(
        temporal=_host_port(settings.temporal_address)[1],
        ui=_host_port(settings.temporal_ui_url)[1],
        vault=vault,
        vault_cluster=vault + 1,  # raft's listener beside the API, as OpenBao's docs do
        tickets=_host_port(settings.tickets_url)[1],
        codec=_host_port(settings.codec_url)[1],
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
        raise _fail(str(exc)) from exc


@app.command()
def dev(data_dir: DataDir = None) -> None:
    """Start the embedded stack (Temporal, OpenBao, ticket service, worker) until Ctrl-C."""
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    running = find_running(settings.data_dir)
    if running is not None:
        typer.echo(f"the stack is already running (pid {running.owner_pid}):")
        _print_stack(running)
        return
    stack, info = _start_stack(settings)
    try:
        typer.secho("embedded stack up:", fg=typer.colors.GREEN)
        _print_stack(info)
        typer.echo("Ctrl-C stops it.")
        _wait_for_interrupt(stack)
    finally:
        stack.stop()


@app.command()
def worker() -> None:
    """Run a worker for the mission task queue."""
    from workers.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))


def load_mission_or_exit(file: Path, settings: Settings) -> MissionSpec:
    """Bad input is reported, with file and field, and nothing is submitted; nor
    is a mission whose profile is revoked, unknown, or cannot be checked."""
    try:
        spec = load_mission(file)
    except SpecError as exc:
        raise _fail(str(exc), code=2) from exc
    try:
        ensure_submittable(_admin(settings), spec)
    except SubmissionRefused as exc:
        raise _fail(str(exc), code=3) from exc
    return spec


def _admin(settings: Settings) -> VaultAdmin:
    return VaultAdmin(settings.vault_addr, settings.operator_token())


def _actor() -> str:
    return os.environ.get("SEALED_ACTOR") or getpass.getuser()


def _print_result(result: MissionResult, settings: Settings) -> None:
    color = typer.colors.GREEN if result.status == MissionStatus.COMPLETED else typer.colors.RED
    typer.secho(
        f"mission {result.mission_id}: {result.status.value} "
        f"({result.turns} turns, {result.tool_calls} tool calls)",
        fg=color,
    )
    if result.reason:
        typer.echo(f"reason: {result.reason}")
    if result.answer:
        typer.echo(f"answer: {result.answer}")
    typer.echo(f"Web UI: {missions.ui_link(settings, result.mission_id)}")


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="mission spec (YAML)")],
    wait: Annotated[bool, typer.Option("--wait", help="follow it until it ends")] = False,
) -> None:
    """Submit a mission; prints its workflow id."""
    settings = _settings()
    spec = load_mission_or_exit(file, settings)

    async def go() -> MissionResult | None:
        client = await connect(settings)
        handle = await missions.submit(client, settings, spec)
        typer.echo(handle.id)
        if not wait:
            return None
        return await missions.follow(handle, typer.echo)

    result = asyncio.run(go())
    if result is not None:
        _print_result(result, settings)


@app.command()
def status(mission_id: str) -> None:
    """Phase, turn, tool calls and pending work of a mission."""
    settings = _settings()

    async def go() -> None:
        p = await missions.progress(await connect(settings), mission_id)
        typer.echo(f"{p.mission_id}: {p.status.value}, {p.phase}")
        typer.echo(f"  turn {p.turn}, {p.tool_calls} tool calls")
        if p.pending:
            typer.echo(f"  pending: {', '.join(p.pending)}")
        if p.reason:
            typer.echo(f"  reason: {p.reason}")

    asyncio.run(go())


@app.command("list")
def list_(
    status: Annotated[MissionStatus | None, typer.Option("--status", help="only these")] = None,
    limit: int = 50,
) -> None:
    """Missions, newest first (by the SealedStatus search attribute)."""
    settings = _settings()

    async def go() -> None:
        rows = await missions.list_missions(await connect(settings), status, limit)
        if not rows:
            typer.echo("no missions")
        for mission_id, name, profile, state, started in rows:
            typer.echo(f"{mission_id:44} {name:20} {profile:16} {state:18} {started:%F %T}")

    asyncio.run(go())


@app.command()
def abort(
    mission_id: str,
    reason: Annotated[str, typer.Option("--reason", help="recorded with the mission")],
) -> None:
    """Abort a running mission: in-flight activities are cancelled."""
    settings = _settings()

    async def go() -> None:
        try:
            p = await missions.abort(await connect(settings), mission_id, reason)
        except missions.MissionNotRunning as exc:
            raise _fail(f"cannot abort {mission_id}: {exc}") from exc
        typer.echo(f"{p.mission_id}: {p.status.value} ({p.reason})")

    asyncio.run(go())


@app.command()
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
    settings = _settings()
    stack: DevStack | None = None
    if find_running(settings.data_dir) is None:
        if not yes and not typer.confirm("No stack is running. Start the embedded stack?"):
            raise typer.Exit(1)
        typer.echo("starting the embedded stack…")
        stack, info = _start_stack(settings)
        _print_stack(info)
        settings = _settings()
    try:
        spec = load_mission_or_exit(mission, settings)

        async def go() -> MissionResult:
            client = await connect(settings)
            handle = await missions.submit(client, settings, spec)
            typer.secho(f"submitted {handle.id} ({spec.name}, profile {spec.profile})", bold=True)
            return await missions.follow(handle, typer.echo)

        result = asyncio.run(go())
        _print_result(result, settings)
        trail = AuditLog(settings.audit_path()).events(result.mission_id)
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


@profiles_app.command("apply")
def profiles_apply(files: Annotated[list[Path], typer.Argument(help="profile YAML files")]) -> None:
    """Register profiles: their per-tool policies and token role at the backend."""
    admin = _admin(_settings())
    for file in files:
        try:
            profile = load_profile(file)
            policies = admin.apply_profile(profile)
        except SpecError as exc:
            raise _fail(str(exc), code=2) from exc
        except ProfileRevoked as exc:
            raise _fail(str(exc)) from exc
        typer.echo(f"{profile.name}: {len(profile.tools)} tools, policies {', '.join(policies)}")


@profiles_app.command("show")
def profiles_show(name: str) -> None:
    """A registered profile, as the workers see it."""
    profile = _admin(_settings()).profile(name)
    if profile is None:
        raise _fail(f"profile '{name}' is not registered")
    typer.echo(profile.model_dump_json(indent=2))


def _revoker(settings: Settings, client: Client) -> Revoker:
    from workers.worker import aws_client_factory

    sts = AwsSts(aws_client_factory(settings))
    return Revoker(_admin(settings), client, AuditLog(settings.audit_path()), sts)


def _revoke(kind: RevocationKind, name: str, reason: str) -> None:
    settings = _settings()

    async def go() -> None:
        revoker = _revoker(settings, await connect(settings))
        if kind == "profile":
            report = await revoker.revoke_profile(name, reason, _actor())
        else:
            report = await revoker.revoke_mission(name, reason, _actor())
        typer.secho(f"revoked {kind} {name}: {reason}", fg=typer.colors.YELLOW)
        if report.credentials_killed is not None:
            typer.echo(f"  credentials killed: {report.credentials_killed}")
        typer.echo(f"  missions aborted: {len(report.missions_aborted)}")
        for mission_id in report.missions_aborted:
            typer.echo(f"    {mission_id}")
        typer.echo(f"  in {report.seconds:.2f} s")

    asyncio.run(go())


@revoke_app.command("profile")
def revoke_profile(
    name: str, reason: Annotated[str, typer.Option(help="recorded and audited")] = "revoked"
) -> None:
    """Kill every credential of the profile, abort its missions, refuse new ones."""
    _revoke("profile", name, reason)


@revoke_app.command("mission")
def revoke_mission(
    mission_id: str, reason: Annotated[str, typer.Option(help="recorded and audited")] = "revoked"
) -> None:
    """Abort one mission and kill every credential issued to it."""
    _revoke("mission", mission_id, reason)


@app.command()
def revocations() -> None:
    """Revoked profiles and missions."""
    found = _admin(_settings()).revocations()
    if not found:
        typer.echo("no revocations")
    for r in found:
        typer.echo(f"{r.kind:8} {r.name:40} {r.at:%F %T}  {r.actor}: {r.reason}")


class _Kind(StrEnum):
    profile = "profile"
    mission = "mission"


@app.command()
def unrevoke(kind: _Kind, name: str) -> None:
    """Lift a revocation (audited)."""
    settings = _settings()
    which: RevocationKind = "profile" if kind == _Kind.profile else "mission"

    async def go() -> None:
        lifted = await _revoker(settings, await connect(settings)).unrevoke(which, name, _actor())
        if lifted is None:
            raise _fail(f"{which} '{name}' is not revoked")
        typer.echo(f"lifted the revocation of {which} {name} ({lifted.reason})")

    asyncio.run(go())


@app.command("replay")
def replay_(
    mission_id: Annotated[
        str | None, typer.Argument(help="fetch its history from the server")
    ] = None,
    history_file: Annotated[
        Path | None,
        typer.Option("--history-file", help="a history from `temporal workflow show -o json`"),
    ] = None,
) -> None:
    """Replay a mission's history against the current workflow code."""
    from sealed import replay
    from sealed.codec import data_converter
    from workers.client import codec_keyring

    if (mission_id is None) == (history_file is None):
        raise _fail("give a mission id or --history-file, one of them", code=2)
    settings = _settings()

    async def go() -> replay.ReplayReport:
        if history_file is not None:
            keyring = await asyncio.to_thread(codec_keyring, settings)
            return await replay.replay(replay.load(history_file), data_converter(keyring))
        client = await connect(settings)  # its converter is the workers'
        history = await replay.fetch(client, str(mission_id))
        return await replay.replay(history, client.data_converter)

    report = asyncio.run(go())
    if not report.ok:
        raise _fail(
            f"{report.workflow_id}: NOT deterministic ({report.events} events): {report.failure}"
        )
    typer.secho(f"{report.workflow_id}: replayed {report.events} events, deterministic", fg="green")


@audit_app.command("prompt")
def audit_prompt(mission_id: str) -> None:
    """The exact original prompt of a mission, verified against its digest."""
    from sealed.prompts import PromptTampered, read_original

    settings = _settings()

    async def digest() -> str | None:
        return (await missions.progress(await connect(settings), mission_id)).prompt_digest

    found = asyncio.run(digest())
    if found is None:
        raise _fail(f"{mission_id} has no persisted prompt yet (or predates replay safety)")
    try:
        original = read_original(_admin(settings).client, found)
    except PromptTampered as exc:
        raise _fail(f"{mission_id}: {exc}") from exc
    typer.echo(f"# mission {mission_id}, original prompt sha256:{found} (verified)")
    typer.echo(original.model_dump_json(indent=2))


@app.command("codec-server")
def codec_server(
    allow_origin: Annotated[
        list[str] | None, typer.Option(help="a Web UI origin besides temporal_ui_url")
    ] = None,
) -> None:
    """Serve /encode and /decode (bearer token required) on codec_url."""
    from sealed.codec_server import CodecServer, serve
    from workers.client import codec_keyring

    settings = _settings()
    host, port = _host_port(settings.codec_url)
    origins = [settings.temporal_ui_url, *(allow_origin or [])]
    serve(CodecServer(codec_keyring(settings), settings.codec_bearer(), origins, host, port))


def main() -> None:
    """Entry point. Exits without interpreter finalisation: the Temporal client's
    native threads can crash a short-lived process while Python tears down
    (temporalio/sdk-python#300), turning a successful command into SIGSEGV."""
    code = 0
    try:
        app(prog_name="sealed")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
