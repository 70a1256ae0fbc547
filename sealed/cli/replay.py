"""`sealed replay`: a mission's history against the current workflow code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from sealed.cli._shared import fail, settings
from sealed.client import codec_keyring, connect
from sealed.codec import data_converter


def replay(
    mission_id: Annotated[
        str | None, typer.Argument(help="fetch its history from the server")
    ] = None,
    history_file: Annotated[
        Path | None,
        typer.Option("--history-file", help="a history from `temporal workflow show -o json`"),
    ] = None,
) -> None:
    """Replay a mission's history against the current workflow code."""
    from sealed.workers.replay import ReplayReport, fetch, load, replay_history

    if (mission_id is None) == (history_file is None):
        raise fail("give a mission id or --history-file, one of them", code=2)
    current = settings()

    async def go() -> ReplayReport:
        keyring = await asyncio.to_thread(codec_keyring, current)
        if history_file is not None:
            history = load(history_file)
        else:
            history = await fetch(await connect(current), str(mission_id))
        # The workers' converter, but reading what older workers wrote too
        # (before encryption); a replay runs no activity and sends nothing.
        return await replay_history(history, data_converter(keyring, strict=False))

    report = asyncio.run(go())
    if not report.ok:
        raise fail(
            f"{report.workflow_id}: NOT deterministic ({report.events} events): {report.failure}"
        )
    typer.secho(f"{report.workflow_id}: replayed {report.events} events, deterministic", fg="green")
