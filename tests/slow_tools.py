"""Tools for tests that need a tool call to be in flight for a while."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field
from temporalio import activity

from sealed.tools.registry import ToolContext, tool
from sealed.tools.tickets import CommentArgs, comment_ticket


class StallArgs(BaseModel):
    seconds: float = Field(ge=0, le=600)


@tool(name="test.stall")
async def stall(ctx: ToolContext, args: StallArgs) -> str:
    """Wait, doing nothing (an abort cancels it)."""
    await asyncio.sleep(args.seconds)
    return f"stalled {args.seconds} s"


@tool(
    name="test.comment_then_stall",
    privilege="high",
    secrets=["tickets_token", "mission_identity"],
    side_effects=True,
)
async def comment_then_stall(ctx: ToolContext, args: CommentArgs) -> str:
    """Comment on a ticket, then (first attempt only) hang: the worker can be
    killed after the side effect and before the activity completes."""
    comment = await comment_ticket(ctx, args)
    if activity.info().attempt == 1:
        await asyncio.sleep(600)
    return comment.model_dump_json()
