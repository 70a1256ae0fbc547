"""`sealed revoke | revocations | unrevoke`: Sealed III-A from the command line."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

import typer
from temporalio.client import Client

from sealed.cli._shared import (
    MissionArg,
    ProfileArg,
    actor,
    admin,
    audit_log,
    check_mission_id,
    check_profile_name,
    fail,
    settings,
)
from sealed.client import connect
from sealed.config import Settings
from sealed.identity.aws import AwsSts, aws_client_factory
from sealed.identity.openbao.admin import RevocationKind
from sealed.revocation import Revoker
from sealed.terminal import printable

app = typer.Typer(no_args_is_help=True, help="Revoke a profile or one mission.")


def _revoker(settings: Settings, client: Client) -> Revoker:
    sts = AwsSts(aws_client_factory(settings.aws_region, settings.aws_endpoint_url))
    return Revoker(admin(settings), client, audit_log(settings), sts)


def _revoke(kind: RevocationKind, name: str, reason: str) -> None:
    current = settings()

    async def go() -> None:
        revoker = _revoker(current, await connect(current))
        if kind == "profile":
            report = await revoker.revoke_profile(name, reason, actor())
        else:
            report = await revoker.revoke_mission(name, reason, actor())
        typer.secho(f"revoked {kind} {name}: {reason}", fg=typer.colors.YELLOW)
        if report.credentials_killed is not None:
            typer.echo(f"  credentials killed: {report.credentials_killed}")
        typer.echo(f"  missions aborted: {len(report.missions_aborted)}")
        for mission_id in report.missions_aborted:
            typer.echo(f"    {mission_id}")
        typer.echo(f"  in {report.seconds:.2f} s")

    asyncio.run(go())


@app.command("profile")
def revoke_profile(
    name: ProfileArg, reason: Annotated[str, typer.Option(help="recorded and audited")] = "revoked"
) -> None:
    """Kill every credential of the profile, abort its missions, refuse new ones."""
    _revoke("profile", name, reason)


@app.command("mission")
def revoke_mission(
    mission_id: MissionArg,
    reason: Annotated[str, typer.Option(help="recorded and audited")] = "revoked",
) -> None:
    """Abort one mission and kill every credential issued to it."""
    _revoke("mission", mission_id, reason)


def revocations() -> None:
    """Revoked profiles and missions."""
    found = admin(settings()).revocations()
    if not found:
        typer.echo("no revocations")
    for r in found:
        typer.echo(printable(f"{r.kind:8} {r.name:40} {r.at:%F %T}  {r.actor}: {r.reason}"))


class _Kind(StrEnum):
    profile = "profile"
    mission = "mission"


def unrevoke(kind: _Kind, name: str) -> None:
    """Lift a revocation (audited)."""
    which: RevocationKind = "profile" if kind == _Kind.profile else "mission"
    (check_profile_name if which == "profile" else check_mission_id)(name)
    current = settings()

    async def go() -> None:
        lifted = await _revoker(current, await connect(current)).unrevoke(which, name, actor())
        if lifted is None:
            raise fail(f"{which} '{name}' is not revoked")
        typer.echo(f"lifted the revocation of {which} {name} ({printable(lifted.reason)})")

    asyncio.run(go())
