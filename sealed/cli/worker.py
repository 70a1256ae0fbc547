"""`sealed worker`: a worker for the mission task queue (the same as
`python -m sealed.workers`), with this machine's settings."""

from __future__ import annotations

import asyncio

from sealed.cli._shared import settings
from sealed.logging import configure_logging


def worker() -> None:
    """Run a worker for the mission task queue."""
    from sealed.workers.worker import run_worker

    current = settings()
    configure_logging(current.log_format)
    asyncio.run(run_worker(current))
