"""The embedded stack's approval inbox: it takes a request only with the
webhook's HMAC signature, keeps the latest notification of each (0600, across
restarts), and lists them only to the token holder; the workers' real
notifier delivers to it."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sealed.activities.approval import WebhookNotifier
from sealed.approvals.inbox import ApprovalInbox, InboxUnavailable, read_inbox
from sealed.approvals.request import ApprovalRequest, argument_digest
from sealed.approvals.webhook import SIGNATURE_HEADER, signature

SECRET, TOKEN = b"webhook-secret", "reader-token"


def request(call: str = "call-1-0", escalated: bool = False) -> ApprovalRequest:
    arguments = {"ticket_id": 1, "body": "hi"}
    return ApprovalRequest(
        id=f"approval-{call}",
        mission_id="m-1",
        call_id=call,
        tool="tickets.comment",
        privilege="high",
        arguments=arguments,
        digest=argument_digest("m-1", call, "tickets.comment", arguments),
        approvers=["bob"] if escalated else ["alice"],
        quorum=1,
        deadline=datetime.now(UTC) + timedelta(minutes=10),
        on_timeout="escalate",
        escalated=escalated,
    )


@pytest.fixture
def inbox(tmp_path: Path):
    with ApprovalInbox(
        secret=SECRET, token=TOKEN, data_path=tmp_path / "inbox.json", host="127.0.0.1", port=0
    ) as running:
        yield running


def post(inbox: ApprovalInbox, body: bytes, sign: bytes | None = SECRET) -> httpx.Response:
    headers = {SIGNATURE_HEADER: signature(sign, body)} if sign is not None else {}
    return httpx.post(inbox.url + "/requests", content=body, headers=headers)


def test_an_unsigned_or_missigned_request_is_refused_and_not_kept(inbox):
    body = request().model_dump_json().encode()
    assert post(inbox, body, sign=None).status_code == 401
    assert post(inbox, body, sign=b"another-secret").status_code == 401
    assert read_inbox(inbox.url, TOKEN) == []


def test_a_signed_body_that_is_not_a_request_is_refused(inbox):
    assert post(inbox, b'{"hello": "world"}').status_code == 400
    assert post(inbox, b"not json").status_code == 400
    assert read_inbox(inbox.url, TOKEN) == []


def test_only_the_token_holder_reads_the_inbox(inbox):
    sent = request()
    assert post(inbox, sent.model_dump_json().encode()).status_code == 202
    assert httpx.get(inbox.url + "/requests").status_code == 401
    with pytest.raises(InboxUnavailable, match="HTTP 401"):
        read_inbox(inbox.url, "wrong")
    [entry] = read_inbox(inbox.url, TOKEN)
    assert entry.request == sent


async def test_the_workers_notifier_delivers_and_an_escalation_replaces(inbox, tmp_path):
    notifier = WebhookNotifier([inbox.url + "/requests"], SECRET)
    assert await notifier.notify(request()) == 1
    assert await notifier.notify(request("call-2-0")) == 1
    assert await notifier.notify(request(escalated=True)) == 1
    entries = read_inbox(inbox.url, TOKEN)
    assert [(e.request.id, e.request.escalated) for e in entries] == [
        ("approval-call-2-0", False),
        ("approval-call-1-0", True),
    ]
    kept = tmp_path / "inbox.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # A restarted inbox still has them.
    inbox.stop()
    with ApprovalInbox(
        secret=SECRET, token=TOKEN, data_path=kept, host="127.0.0.1", port=0
    ) as again:
        assert read_inbox(again.url, TOKEN) == entries


def test_an_inbox_that_is_not_running_is_said_so():
    with pytest.raises(InboxUnavailable, match="ConnectError"):
        read_inbox("http://127.0.0.1:9", TOKEN, timeout=1)
