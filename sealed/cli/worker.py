"""`sealed worker`: a worker for the mission task queue (the same as
`python -m sealed.workers`), with this machine's settings; with `--profiles`,
a per-profile worker for those dedicated profiles' own queues."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from sealed.cli._shared import check_profile_name, settings
from sealed.logging import configure_logging


def _profile_set(value: str) -> list[str]:
    return sorted({check_profile_name(name.strip()) for name in value.split(",")})


def worker(
    profiles: Annotated[
        str | None,
        typer.Option(
            "--profiles",
            metavar="A,B",
            help=(
                "serve only these dedicated profiles, on their own task queues, with the"
                " login `sealed bootstrap --worker-for A,B` wrote (SEALED_WORKER_PROFILES)"
            ),
        ),
    ] = None,
) -> None:
    """Run a worker: the shared one, or a per-profile one (--profiles)."""
    from sealed.workers.worker import run_worker

    current = settings()
    if profiles is not None:
        current = current.model_copy(update={"worker_profiles": _profile_set(profiles)})
    configure_logging(current.log_format)
    asyncio.run(run_worker(current))
