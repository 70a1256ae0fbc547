"""Activities heartbeat while they wait on a model or a tool: that is how a
worker's death is noticed quickly and how an abort's cancellation reaches them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity


@contextlib.asynccontextmanager
async def heartbeating(interval: float = 1.0) -> AsyncIterator[None]:
    async def beat() -> None:
        # The first beat waits: calls shorter than `interval` cost the server nothing.
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
