"""`sealed curate export`: finished missions as a fine-tuning file (the
training loop, sealed.curation), from profiles whose registered `exportable`
allows it, each record redacted again and checked, every export audited."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from sealed.cli._shared import actor, admin, audit_log, check_profile_name, fail, settings
from sealed.cli.directives import registry
from sealed.client import connect
from sealed.config import Settings
from sealed.curation import (
    Export,
    ExportReport,
    JsonlWriter,
    Listed,
    OperatorRegistry,
    OutputExists,
    Selection,
    SinceError,
    UnreadableMission,
    export_policy,
    fetch_finished,
    matching,
    parse_since,
)
from sealed.identity.backend import SecretUnavailable
from sealed.models import MissionStatus
from sealed.terminal import printable

app = typer.Typer(
    no_args_is_help=True,
    help="The training loop: curated, audited exports of finished missions.",
)


def _profile_name(value: str | None) -> str | None:
    return None if value is None else check_profile_name(value)


def _selection(profile: str | None, since: str | None, status: list[MissionStatus]) -> Selection:
    try:
        when = None if since is None else parse_since(since, datetime.now(UTC))
    except SinceError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    try:
        return Selection(profile=profile, statuses=status, since=when)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--status") from None


async def _export(
    client: Client, export: Export, listed: list[Listed], current: Settings
) -> ExportReport:
    with typer.progressbar(
        listed,
        label=f"exporting {len(listed)} missions",
        item_show_func=lambda item: item.mission_id if item else None,
        file=sys.stderr,
    ) as missions:
        for item in missions:
            # The index's word on the profile spares reading a history that
            # could not be exported; the history's word decides the rest.
            allowed = export.exportable(item.profile) if item.profile else None
            if isinstance(allowed, str):
                export.drop(item.mission_id, allowed, item.profile)
                continue
            try:
                # The run the index listed: a later run under the id is another workflow.
                mission = await fetch_finished(client, item.mission_id, item.run_id)
            except UnreadableMission as exc:
                export.drop(item.mission_id, str(exc), item.profile)
                continue
            export.add(mission)
    return await asyncio.to_thread(export.finish, audit_log(current), actor())


def _say(report: ExportReport, current: Settings) -> None:
    for dropped in report.dropped:
        typer.secho(
            printable(f"dropped {dropped.mission_id}: {dropped.reason}"),
            fg=typer.colors.YELLOW,
            err=True,
        )
    if report.path is None:
        typer.secho(
            f"nothing exported ({len(report.dropped)} dropped): no file written",
            fg=typer.colors.YELLOW,
        )
        return
    typer.secho(
        f"exported {len(report.exported)} missions to {report.path} "
        f"(sha256 {report.sha256}), {len(report.dropped)} dropped, "
        f"{report.redactions} values redacted again",
        fg=typer.colors.GREEN,
    )
    typer.echo(f"audited as curation.exported in {current.audit_path()}")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="the JSONL file to write")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", callback=_profile_name, help="only this profile's missions"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="only missions that finished since: an age (24h, 7d), a date or an ISO time",
        ),
    ] = None,
    status: Annotated[
        list[MissionStatus] | None,
        typer.Option("--status", help="how they ended (repeat for several; default completed)"),
    ] = None,
    include_flagged: Annotated[
        bool,
        typer.Option(
            "--include-flagged",
            help="also missions a tool output of which was flagged as prompt injection",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="replace OUT if it exists")] = False,
) -> None:
    """Finished missions as chat fine-tuning records (OpenAI JSONL, one per
    mission), from exportable profiles only, each redacted again and checked
    whole; what cannot be exported is dropped and audited, with why."""
    selection = _selection(profile, since, status or [MissionStatus.COMPLETED])
    if out.is_dir():
        raise fail(f"{out} is a folder: --out names the file to write", code=2)
    if (out.exists() or out.is_symlink()) and not force:
        raise fail(f"{out} exists: choose another --out, or pass --force to replace it", code=2)
    if not out.parent.is_dir():
        raise fail(f"{out.parent} is not a folder", code=2)
    current = settings()
    operator = OperatorRegistry(admin(current))

    async def go() -> ExportReport | None:
        if selection.profile is not None:
            allowed = export_policy(operator, selection.profile)
            if isinstance(allowed, str):
                raise fail(allowed, code=3)
        tools = registry(current)
        client = await connect(current)
        listed = await matching(client, selection)
        if not listed:
            typer.secho(f"no missions matched ({selection.describe()}): no file written")
            return None
        with JsonlWriter(out, replace=force) as writer:
            export = Export(
                writer, operator, tools, selection=selection, include_flagged=include_flagged
            )
            return await _export(client, export, listed, current)

    try:
        report = asyncio.run(go())
    except (SecretUnavailable, RPCError) as exc:
        raise fail(f"cannot export: {exc}") from exc
    except OutputExists as exc:
        raise fail(f"{exc}: nothing replaced (--force replaces it)", code=2) from exc
    if report is not None:
        _say(report, current)
