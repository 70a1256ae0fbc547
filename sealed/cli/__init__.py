"""The `sealed` command: one module per command group. The only library code
that imports the apps (sealed.workers, and through it sealed.workflows), and
only lazily, inside the commands that run them."""

from __future__ import annotations

import os
import sys

import typer

from sealed.cli import (
    approvals,
    audit,
    bootstrap,
    codec,
    curate,
    directives,
    keys,
    missions,
    profiles,
    redact,
    replay,
    revoke,
    stack,
    worker,
)
from sealed.client import ConnectionSettingsError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Sealed: Temporal-orchestrated missions for AI agents, with a security spine.",
)
app.command()(stack.dev)
app.command()(stack.demo)
app.command()(missions.submit)
app.command()(missions.status)
app.command("list")(missions.list_)
app.command()(missions.abort)
app.command()(approvals.pending)
app.command()(approvals.approve)
app.command()(approvals.deny)
app.add_typer(keys.app, name="keys")
app.command()(worker.worker)
app.command("bootstrap")(bootstrap.bootstrap_command)
app.add_typer(profiles.app, name="profiles")
app.add_typer(directives.app, name="directives")
app.add_typer(revoke.app, name="revoke")
app.command()(revoke.revocations)
app.command()(revoke.unrevoke)
app.add_typer(audit.app, name="audit")
app.command("redact")(redact.redact)
app.command("replay")(replay.replay)
app.command("codec-server")(codec.codec_server)
app.add_typer(curate.app, name="curate")


def main() -> None:
    """Entry point. Exits without interpreter finalisation: the Temporal client's
    native threads can crash a short-lived process while Python tears down
    (temporalio/sdk-python#300), turning a successful command into SIGSEGV."""
    code = 0
    try:
        app(prog_name="sealed")
    except SystemExit as exc:
        if isinstance(exc.code, str):  # a setting that is missing says which
            typer.secho(exc.code, fg=typer.colors.RED, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ConnectionSettingsError as exc:  # any command that reaches Temporal
        typer.secho(f"Temporal connection: {exc}", fg=typer.colors.RED, err=True)
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
