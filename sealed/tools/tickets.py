"""Tools over the demo ticket service: read freely, comment only with a
just-in-time token and (being high privilege) a human approval.

Transport errors and 5xx answers propagate as exceptions so the activity retries
them; the `Idempotency-Key` makes such a retry of `tickets.comment` act once."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, Field

from sealed.config import get_settings
from sealed.tools.httpclient import async_client
from sealed.tools.registry import ToolContext, ToolError, tool
from sealed.tools.ticket_service import IDENTITY_HEADER

TicketStatus = Literal["open", "pending", "closed"]


class TicketSummary(BaseModel):
    id: int
    title: str
    status: str


class Comment(BaseModel):
    id: int
    author: str
    body: str
    created_at: str


class Ticket(TicketSummary):
    reporter: str
    body: str
    comments: list[Comment]


class ListArgs(BaseModel):
    status: TicketStatus | None = Field(default=None, description="only tickets in this status")


class ReadArgs(BaseModel):
    ticket_id: int


class CommentArgs(BaseModel):
    ticket_id: int
    body: str = Field(min_length=1, max_length=2000)


def _client() -> httpx.AsyncClient:
    return async_client(base_url=get_settings().tickets_url)


def _check(response: httpx.Response, ticket_id: int | None = None) -> None:
    """4xx answers are the model's to see (it may recover); the rest raise to be retried."""
    if response.status_code == 404 and ticket_id is not None:
        raise ToolError(f"ticket {ticket_id} not found")
    if response.status_code == 401:
        raise ToolError("the ticket service rejected the credential (401 unauthorized)")
    if response.is_client_error:
        try:
            detail = response.json().get("error", response.text)
        except ValueError:
            detail = response.text
        raise ToolError(f"the ticket service refused it ({response.status_code}): {detail}")
    response.raise_for_status()


@tool(name="tickets.list")
async def list_tickets(ctx: ToolContext, args: ListArgs) -> list[TicketSummary]:
    """List support tickets (id, title, status), optionally only those in one status."""
    params = {"status": args.status} if args.status else None
    async with _client() as client:
        response = await client.get("/tickets", params=params)
    _check(response)
    return [TicketSummary.model_validate(t) for t in response.json()]


@tool(name="tickets.read")
async def read_ticket(ctx: ToolContext, args: ReadArgs) -> Ticket:
    """Read one support ticket in full: reporter, body and comments."""
    async with _client() as client:
        response = await client.get(f"/tickets/{args.ticket_id}")
    _check(response, args.ticket_id)
    return Ticket.model_validate(response.json())


@tool(
    name="tickets.comment",
    privilege="high",
    secrets=["tickets_token", "mission_identity"],
    side_effects=True,
)
async def comment_ticket(ctx: ToolContext, args: CommentArgs) -> Comment:
    """Add a comment to a support ticket (visible to the customer)."""
    headers = {
        "Authorization": f"Bearer {ctx.secret('tickets_token').reveal()}",
        IDENTITY_HEADER: ctx.secret("mission_identity").reveal(),
        "Idempotency-Key": ctx.idempotency_key,
    }
    async with _client() as client:
        response = await client.post(
            f"/tickets/{args.ticket_id}/comments", json={"body": args.body}, headers=headers
        )
    _check(response, args.ticket_id)
    return Comment.model_validate(response.json())
