"""Activities heartbeat while they wait on a model or a tool: that is how a
worker's death is noticed quickly and how an abort's cancellation reaches them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

ABANDONED = "CallAbandoned"


@contextlib.asynccontextmanager
async def heartbeating(
    *details: object, interval: float = 1.0, progress: Callable[[], object] | None = None
) -> AsyncIterator[None]:
    """`details` ride on every beat: a beat without them would erase what the
    attempt told the next one (each beat replaces the last). `progress`, when
    given, says how far the call has come, as of each beat."""

    async def beat() -> None:
        # The first beat waits: calls shorter than `interval` cost the server nothing.
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat(*details, *(() if progress is None else (progress(),)))

    task = asyncio.create_task(beat())
    try:
        yield
    except asyncio.CancelledError:
        cancelled = activity.cancellation_details()
        if cancelled is None or not cancelled.not_found:
            raise
        # The mission ended without waiting for this call (a profile revocation
        # does not wait): nobody is left to tell. Benign, so the SDK does not
        # log a failure with a traceback for every abandoned call.
        raise ApplicationError(
            "the mission ended while this call ran; abandoned",
            type=ABANDONED,
            non_retryable=True,
            category=ApplicationErrorCategory.BENIGN,
        ) from None
    finally:
        task.cancel()
