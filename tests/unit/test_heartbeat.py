"""How a cancellation leaves a heartbeating call: an abort's cancel stays a
cancellation; a mission that ended without waiting makes it a benign error."""

from __future__ import annotations

import asyncio

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from sealed.activities.heartbeat import ABANDONED, heartbeating


@activity.defn
async def long_call() -> str:
    async with heartbeating(interval=0.01):
        await asyncio.sleep(60)
    return "done"


async def cancelled_with(details: activity.ActivityCancellationDetails) -> None:
    env = ActivityEnvironment()
    beating = asyncio.Event()
    env.on_heartbeat = lambda *_: beating.set()
    task = asyncio.create_task(env.run(long_call))
    await asyncio.wait_for(beating.wait(), 5)
    env.cancel(details)
    await task


async def test_an_abort_stays_a_cancellation():
    with pytest.raises(asyncio.CancelledError):
        await cancelled_with(activity.ActivityCancellationDetails(cancel_requested=True))


async def test_a_call_whose_mission_is_gone_ends_benign_and_final():
    with pytest.raises(ApplicationError) as raised:
        await cancelled_with(activity.ActivityCancellationDetails(not_found=True))
    assert raised.value.type == ABANDONED
    assert raised.value.non_retryable
    assert raised.value.category == ApplicationErrorCategory.BENIGN
