"""`sealed submit | status | list | abort`: missions through the Temporal
client (what `temporal workflow ...` does too, decoded)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from sealed import missions
from sealed.approvals import ApprovalState
from sealed.audit import AuditEvent
from sealed.cli._shared import MissionArg, actor, admin, audit_log, fail, settings
from sealed.cli.approvals import describe
from sealed.cli.directives import check_mission, refuse, registry
from sealed.client import connect
from sealed.config import Settings
from sealed.directives.policies import DirectiveError
from sealed.identity.profiles import Profile
from sealed.models import MissionResult, MissionSpec, MissionStatus
from sealed.revocation import SubmissionRefused, ensure_submittable
from sealed.spec_loader import SpecError, load_mission
from sealed.terminal import printable


def load_mission_or_exit(file: Path, settings: Settings) -> tuple[MissionSpec, Profile]:
    """Bad input is reported, with file and field, and nothing is submitted; nor
    is a mission whose profile is revoked, unknown, or cannot be checked, nor one
    whose directives (with its profile's) cannot be used. The profile as
    registered says which task queue the mission goes to."""
    try:
        spec = load_mission(file)
    except SpecError as exc:
        raise fail(str(exc), code=2) from exc
    try:
        profile = ensure_submittable(admin(settings), spec)
    except SubmissionRefused as exc:
        raise fail(str(exc), code=3) from exc
    try:
        check_mission(spec, profile, registry(settings))
    except DirectiveError as exc:
        raise refuse(str(file), exc) from exc
    return spec, profile


def print_result(result: MissionResult, settings: Settings) -> None:
    color = typer.colors.GREEN if result.status == MissionStatus.COMPLETED else typer.colors.RED
    typer.secho(
        f"mission {result.mission_id}: {result.status.value} "
        f"({result.turns} turns, {result.tool_calls} tool calls)",
        fg=color,
    )
    if result.reason:
        typer.echo(f"reason: {printable(result.reason)}")
    if result.violation is not None:
        v = result.violation
        typer.secho(
            f"stopped by directive {v.policy} ({v.level}, {v.action}) on the {v.event} "
            f"of {v.tool} ({v.call_id})",
            fg=typer.colors.YELLOW,
        )
        typer.echo("  " + printable(v.excerpt).replace("\n", "\n  "))
    if result.answer:
        typer.echo(f"answer: {printable(result.answer)}")
    typer.echo(f"Web UI: {missions.ui_link(settings, result.mission_id)}")


def submit(
    file: Annotated[Path, typer.Argument(help="mission spec (YAML)")],
    wait: Annotated[bool, typer.Option("--wait", help="follow it until it ends")] = False,
) -> None:
    """Submit a mission; prints its workflow id."""
    current = settings()
    spec, profile = load_mission_or_exit(file, current)

    async def go() -> MissionResult | None:
        client = await connect(current)
        handle = await missions.submit(client, current, spec, profile=profile)
        typer.echo(handle.id)
        if profile.worker == "dedicated":  # nothing else will pick it up
            queue = missions.task_queue(current, profile)
            typer.echo(f"on {queue}: served by `sealed worker --profiles {profile.name}`", err=True)
        if not wait:
            return None
        return await missions.follow(handle, typer.echo, _told_to_wait)

    result = asyncio.run(go())
    if result is not None:
        print_result(result, current)


async def _told_to_wait(state: ApprovalState) -> None:
    """Following a mission: a call it holds for approval, and how to decide it."""
    typer.secho("waiting for approval:", fg=typer.colors.YELLOW, bold=True)
    for line in describe(state):
        typer.echo(f"  {line}")
    r = state.request
    typer.echo(
        f"  decide: `sealed approve {r.mission_id} {r.id} --as NAME --key FILE` "
        "(or `sealed deny ... --reason R`)"
    )


def status(mission_id: MissionArg) -> None:
    """Phase, turn, tool calls and pending work of a mission."""
    current = settings()

    async def go() -> None:
        p = await missions.progress(await connect(current), mission_id)
        # The phase and pending work name the model's tool calls.
        typer.echo(f"{p.mission_id}: {p.status.value}, {printable(p.phase)}")
        typer.echo(f"  turn {p.turn}, {p.tool_calls} tool calls")
        if p.pending:
            typer.echo(f"  pending: {printable(', '.join(p.pending))}")
        if p.reason:
            typer.echo(f"  reason: {printable(p.reason)}")
        if p.usage:
            tokens_in = sum(u.input_tokens for u in p.usage)
            tokens_out = sum(u.output_tokens for u in p.usage)
            cost = sum(u.cost_microusd for u in p.usage) / 1_000_000
            typer.echo(f"  usage: {tokens_in} tokens in, {tokens_out} out, ~${cost:.4f}")
            for u in p.usage:
                typer.echo(
                    f"    turn {u.turn}: {u.input_tokens} in, {u.output_tokens} out, "
                    f"~${u.cost_microusd / 1_000_000:.4f}"
                )

    asyncio.run(go())


def list_(
    status: Annotated[MissionStatus | None, typer.Option("--status", help="only these")] = None,
    limit: int = 50,
) -> None:
    """Missions, newest first (by the SealedStatus search attribute)."""
    current = settings()

    async def go() -> None:
        rows = await missions.list_missions(await connect(current), status, limit)
        if not rows:
            typer.echo("no missions")
        for mission_id, name, profile, state, started in rows:
            typer.echo(f"{mission_id:44} {name:20} {profile:16} {state:18} {started:%F %T}")

    asyncio.run(go())


def abort(
    mission_id: MissionArg,
    reason: Annotated[str, typer.Option("--reason", help="recorded with the mission")],
) -> None:
    """Abort a running mission: in-flight activities are cancelled."""
    current = settings()

    async def go() -> None:
        try:
            p = await missions.abort(await connect(current), mission_id, reason)
        except missions.MissionNotRunning as exc:
            raise fail(f"cannot abort {mission_id}: {exc}") from exc
        event = AuditEvent(
            kind="mission.aborted", mission_id=mission_id, reason=reason, actor=actor()
        )
        await asyncio.to_thread(lambda: audit_log(current).record(event))
        typer.echo(f"{p.mission_id}: {p.status.value} ({printable(p.reason or '')})")

    asyncio.run(go())
