"""Approval notifications: each webhook gets the request as JSON, signed with
HMAC-SHA256 over the body; a failure names the webhook by its place in the
list, never by its URL (which is often a credential itself)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sealed.activities.approval import WebhookFailed, WebhookNotifier
from sealed.approvals.request import ApprovalRequest, argument_digest
from sealed.approvals.webhook import SIGNATURE_HEADER

SECRET = b"webhook-hmac-key"
RECEIVED: list[tuple[str, bytes, str | None]] = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        RECEIVED.append((self.path, body, self.headers.get(SIGNATURE_HEADER)))
        self.send_response(500 if self.path.startswith("/broken") else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    RECEIVED.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


REQUEST = ApprovalRequest(
    id="approval-call-1-0",
    mission_id="m-1",
    call_id="call-1-0",
    tool="tickets.comment",
    privilege="high",
    arguments={"ticket_id": 1, "body": "[REDACTED:tickets_token]"},
    digest=argument_digest("m-1", "call-1-0", "tickets.comment", {"ticket_id": 1}),
    approvers=["alice"],
    quorum=1,
    deadline=datetime(2026, 12, 1, tzinfo=UTC),
    on_timeout="deny",
)


async def test_every_webhook_gets_the_request_signed(receiver: str) -> None:
    urls = [f"{receiver}/a", f"{receiver}/b"]
    assert await WebhookNotifier(urls, SECRET).notify(REQUEST) == 2
    assert [path for path, _, _ in RECEIVED] == ["/a", "/b"]
    for _, body, signature in RECEIVED:
        assert ApprovalRequest.model_validate_json(body) == REQUEST
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        assert signature == expected


async def test_a_failing_webhook_is_named_by_number_not_url(receiver: str) -> None:
    credential_url = f"{receiver}/broken/T0000/B0000/s3cr3t-hook-token"
    with pytest.raises(WebhookFailed) as failed:
        await WebhookNotifier([f"{receiver}/a", credential_url], SECRET).notify(REQUEST)
    assert str(failed.value) == "approval webhook 2 of 2: HTTP 500"
    unreachable = "http://127.0.0.1:9/s3cr3t-hook-token"
    with pytest.raises(WebhookFailed) as failed:
        await WebhookNotifier([unreachable], None).notify(REQUEST)
    assert "s3cr3t" not in str(failed.value) and "webhook 1 of 1" in str(failed.value)
