"""`sealed audit`: check the audit log's chain, read a mission's events and
its original prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sealed.audit import AuditError, AuditLog, AuditRecord
from sealed.cli._shared import MissionArg, admin, audit_log, fail, settings
from sealed.config import Settings
from sealed.identity.openbao.stores import read_original
from sealed.pinning import PromptTampered
from sealed.terminal import printable

app = typer.Typer(
    no_args_is_help=True, help="The audit log: its chain, a mission's events and prompt."
)

LogFile = Annotated[
    Path | None, typer.Option("--file", help="the audit log (default: <data_dir>/audit.log)")
]


def _log(path: Path | None) -> AuditLog:
    return AuditLog(path if path is not None else Settings().audit_path())


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    records, sep, last_hash = value.partition(":")
    if not sep or not records.isdigit() or len(last_hash) != 64:
        raise typer.BadParameter("expected RECORDS:HASH, as printed by a previous verify")
    return int(records), last_hash


@app.command()
def verify(
    file: LogFile = None,
    anchor: Annotated[
        str | None,
        typer.Option(help="RECORDS:HASH to check against instead of the anchor in OpenBao"),
    ] = None,
    no_key: Annotated[
        bool,
        typer.Option(
            "--no-key",
            help="check the chain's shape only, offline: a rewrite of the whole file passes",
        ),
    ] = False,
) -> None:
    """Recompute every seal and link, against the key and the anchor kept in
    OpenBao; exit 1 naming the first record that does not hold."""
    if no_key:
        log = _log(file)
    else:
        keyed = audit_log(settings())  # fails closed if the key cannot be read
        log = keyed if file is None else keyed.at(file)
    report = log.verify(anchor=_anchor(anchor))
    if report.ok:
        typer.echo(f"audit log OK: {report.records} records" + (" (unkeyed)" * no_key))
        if report.last_hash is not None:
            typer.echo(f"head: {report.records}:{report.last_hash}")
        return
    typer.secho(
        f"audit log BROKEN at line {report.first_bad_line}: {report.problem}",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(1)


def describe_record(r: AuditRecord) -> str:
    cells = (r.ts, r.kind, r.tool, r.secret, r.lease_id, r.outcome, r.reason)
    line = "  ".join("-" if c is None else c for c in cells)
    if r.actor:
        line += f"  by {r.actor}"
    for name in ("request", "approval", "policy"):  # which approval or directive it is of
        if name in r.details:
            line += f"  {name} {r.details[name]}"
    return printable(line)


# An approval's chain as the demo shows it, in the order it happens.
_CHAIN = ("approval.requested", "approval.decided", "credential.issued", "credential.revoked")


def approval_trail(records: list[AuditRecord]) -> list[str]:
    """Each approval's chain: its request, the decisions on it, the credentials
    issued for the call it released (they carry its id) and their revocation."""
    lines = []
    requests = [r.details["request"] for r in records if r.kind == "approval.requested"]
    for request in dict.fromkeys(requests):
        for r in records:
            mine = r.details.get("request" if r.kind.startswith("approval.") else "approval")
            if r.kind not in _CHAIN or mine != request:
                continue
            if r.kind == "approval.requested":
                said = f"{r.tool} digest {str(r.details.get('digest', '-'))[:16]}…"
            elif r.kind == "approval.decided":
                key = r.details.get("key", "-")
                said = f"{r.details.get('decision', '-')} by {r.actor} (key {key})"
            else:
                said = f"{r.secret} lease {r.lease_id} ({r.outcome})"
            lines.append(printable(f"{request}  {r.kind:<19} {said}"))
    return lines


@app.command()
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


@app.command("prompt")
def prompt(mission_id: MissionArg, file: LogFile = None) -> None:
    """The exact original prompt of a mission, verified against its digest.

    From the audit log (the digest its first model turn pinned) and the prompt
    store alone: no worker, no workflow history needed."""
    current = settings()
    log = AuditLog(file or current.audit_path())
    pinned = [e for e in log.events(mission_id) if e.kind == "prompt.pinned"]
    if not pinned:
        raise fail(f"{mission_id}: no prompt.pinned event in {log.path}")
    digest = str(pinned[-1].details["digest"])
    try:
        original = read_original(admin(current).client, digest)
    except PromptTampered as exc:
        raise fail(f"{mission_id}: {exc}") from exc
    typer.echo(f"# mission {mission_id}, original prompt sha256:{digest} (verified)")
    typer.echo(original.model_dump_json(indent=2))
