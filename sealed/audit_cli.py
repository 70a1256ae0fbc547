"""`sealed audit`: check the audit log's chain and read a mission's events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sealed.audit import AuditError, AuditLog, AuditRecord
from sealed.config import Settings

audit_app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

LogFile = Annotated[
    Path | None, typer.Option("--file", help="the audit log (default: <data_dir>/audit.log)")
]


def _log(path: Path | None) -> AuditLog:
    return AuditLog(path if path is not None else Settings().data_dir / "audit.log")


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    records, sep, last_hash = value.partition(":")
    if not sep or not records.isdigit() or len(last_hash) != 64:
        raise typer.BadParameter("expected RECORDS:HASH, as printed by a previous verify")
    return int(records), last_hash


@audit_app.command()
def verify(
    file: LogFile = None,
    anchor: Annotated[
        str | None,
        typer.Option(help="RECORDS:HASH from an earlier verify; catches truncation at the end"),
    ] = None,
) -> None:
    """Recompute every hash and link; exit 1 at the first line that does not hold."""
    report = _log(file).verify(anchor=_anchor(anchor))
    if report.ok:
        typer.echo(f"audit log OK: {report.records} records")
        if report.last_hash is not None:
            # Truncation at the end leaves a valid chain: keep this anchor elsewhere.
            typer.echo(f"anchor: {report.records}:{report.last_hash}")
        return
    typer.secho(
        f"audit log BROKEN at line {report.first_bad_line}: {report.problem}",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(1)


def describe_record(r: AuditRecord) -> str:
    cells = (r.ts, r.kind, r.tool, r.secret, r.lease_id, r.outcome, r.reason)
    return "  ".join("-" if c is None else c for c in cells)


@audit_app.command()
def show(
    mission: Annotated[str, typer.Argument(help="the mission id")],
    file: LogFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the raw records")] = False,
) -> None:
    """One line per audit event of MISSION, oldest first."""
    try:
        records = _log(file).events(mission)
    except AuditError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    for r in records:
        if as_json:
            typer.echo(r.to_line())
            continue
        typer.echo(describe_record(r))
