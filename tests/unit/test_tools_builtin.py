"""The built-in tools, called as the activity calls them, against a real ticket service."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sealed.config import get_settings
from sealed.identity.backend import SecretValue
from sealed.tools import REGISTRY, ToolContext, ToolError, load_tool_modules
from sealed.tools.http import FetchResult
from sealed.tools.ticket_service import TicketService
from sealed.tools.tickets import Comment, Ticket, TicketSummary

TOKEN = "tickets-test-token-91ab"

load_tool_modules(["sealed.tools.tickets", "sealed.tools.http"])


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TicketService]:
    svc = TicketService(token=TOKEN, data_path=tmp_path / "tickets.json")
    svc.start()
    monkeypatch.setenv("SEALED_TICKETS_URL", svc.url)
    get_settings.cache_clear()
    yield svc
    svc.stop()
    get_settings.cache_clear()


def _ctx(token: str = TOKEN, key: str = "m-1/call-1") -> ToolContext:
    return ToolContext(
        mission_id="m-1",
        call_id="call-1",
        idempotency_key=key,
        secrets={
            "tickets_token": SecretValue("tickets_token", token),
            # This service runs without an identity verifier (see the
            # integration tests for the verified path).
            "mission_identity": SecretValue("mission_identity", "unverified"),
        },
    )


async def _call(name: str, ctx: ToolContext, **arguments: object) -> object:
    tool = REGISTRY[name]
    return await tool.fn(ctx, tool.args_model.model_validate(arguments))


def test_registration() -> None:
    comment = REGISTRY["tickets.comment"]
    assert (comment.privilege, comment.secrets, comment.side_effects) == (
        "high",
        ("tickets_token", "mission_identity"),
        True,
    )
    for name in ("tickets.list", "tickets.read", "http.fetch"):
        assert (REGISTRY[name].privilege, REGISTRY[name].secrets) == ("low", ())
    assert "ticket_id" in comment.info().parameters["properties"]


async def test_list_and_read(service: TicketService) -> None:
    tickets = await _call("tickets.list", _ctx())
    assert isinstance(tickets, list) and all(isinstance(t, TicketSummary) for t in tickets)
    assert len(tickets) == 4
    closed = await _call("tickets.list", _ctx(), status="closed")
    assert [t.status for t in closed] == ["closed"]  # type: ignore[attr-defined]
    ticket = await _call("tickets.read", _ctx(), ticket_id=2)
    assert isinstance(ticket, Ticket) and ticket.comments
    with pytest.raises(ToolError, match="ticket 42 not found"):
        await _call("tickets.read", _ctx(), ticket_id=42)


async def test_comment_is_idempotent_per_call(service: TicketService) -> None:
    first = await _call("tickets.comment", _ctx(), ticket_id=1, body="We are on it.")
    retry = await _call("tickets.comment", _ctx(), ticket_id=1, body="We are on it.")
    assert isinstance(first, Comment) and first == retry
    ticket = await _call("tickets.read", _ctx(), ticket_id=1)
    assert [c.body for c in ticket.comments] == ["We are on it."]  # type: ignore[attr-defined]


async def test_comment_errors_reach_the_model(service: TicketService) -> None:
    with pytest.raises(ToolError, match="401"):
        await _call("tickets.comment", _ctx(token="wrong"), ticket_id=1, body="x")
    with pytest.raises(ToolError, match="ticket 42 not found"):
        await _call("tickets.comment", _ctx(), ticket_id=42, body="x")


def _fetch_ctx(service: TicketService) -> ToolContext:
    """The service is on loopback, which http.fetch reaches only when allowed."""
    return replace(_ctx(), allowed_hosts=frozenset({urlsplit(service.url).netloc}))


async def test_http_fetch(service: TicketService) -> None:
    result = await _call("http.fetch", _fetch_ctx(service), url=f"{service.url}/healthz")
    assert isinstance(result, FetchResult)
    assert (result.status, result.text, result.truncated) == (200, '{"ok": true}', False)
    assert result.content_type is not None and result.content_type.startswith("application/json")
    short = await _call(
        "http.fetch", _fetch_ctx(service), url=f"{service.url}/tickets", max_bytes=10
    )
    assert isinstance(short, FetchResult) and short.truncated and len(short.text) == 10


async def test_http_fetch_transport_error_is_a_tool_error(service: TicketService) -> None:
    url, ctx = service.url, _fetch_ctx(service)
    service.stop()
    with pytest.raises(ToolError, match="failed"):
        await _call("http.fetch", ctx, url=f"{url}/healthz")
