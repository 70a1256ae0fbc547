"""The embedded stack's approval inbox: a small receiver for the approval
webhook (sealed.activities.approval), so that a developer sees what a team's
Slack or pager would. It takes a request only with a valid HMAC-SHA256
signature (`X-Sealed-Signature`, the webhook secret), keeps the latest
notification of each request (an escalation notifies again) in a 0600 file,
and lists them to a bearer-token holder (`sealed pending --inbox`).

    SEALED_INBOX_SECRET=... SEALED_INBOX_TOKEN=... \
        python -m sealed.approvals.inbox --port 8766 --data FILE
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from sealed.approvals.request import ApprovalRequest
from sealed.approvals.webhook import SIGNATURE_HEADER, signed
from sealed.files import write_private
from sealed.httpservice import (
    HTTPError,
    ServiceHandler,
    ThreadedService,
    same_token,
    serve_until_signal,
)

SECRET_ENV = "SEALED_INBOX_SECRET"
TOKEN_ENV = "SEALED_INBOX_TOKEN"
REQUESTS_PATH = "/requests"
# A request's arguments are bounded by what a model turn may carry; a webhook
# body beyond this is not one of ours.
MAX_REQUEST_BYTES = 256 * 1024
# The inbox of a development stack, not an archive: the oldest go first.
KEEP = 500


class InboxEntry(BaseModel):
    received_at: datetime
    request: ApprovalRequest

    @property
    def key(self) -> tuple[str, str]:
        return self.request.mission_id, self.request.id


_ENTRIES: TypeAdapter[list[InboxEntry]] = TypeAdapter(list[InboxEntry])


class ApprovalInbox(ThreadedService):
    name = "approval-inbox"

    def __init__(self, *, secret: bytes, token: str, data_path: Path, host: str, port: int) -> None:
        super().__init__(host, port)
        self._secret = secret
        self._token = token
        self._data_path = data_path
        self._lock = threading.Lock()
        self._entries = self._load()

    def _load(self) -> list[InboxEntry]:
        try:
            return _ENTRIES.validate_json(self._data_path.read_bytes())
        except FileNotFoundError:
            return []

    def signed(self, header: str | None, body: bytes) -> bool:
        return signed(self._secret, body, header)

    def reader(self, token: str | None) -> bool:
        return same_token(token, self._token.encode())

    def take(self, request: ApprovalRequest) -> None:
        entry = InboxEntry(received_at=datetime.now(UTC), request=request)
        with self._lock:
            kept = [e for e in self._entries if e.key != entry.key][-(KEEP - 1) :]
            write_private(self._data_path, _ENTRIES.dump_json([*kept, entry]).decode())
            self._entries = [*kept, entry]

    def entries(self) -> list[InboxEntry]:
        with self._lock:
            return list(self._entries)


class _Handler(ServiceHandler):
    server_version = "sealed-approval-inbox/1"

    def do_GET(self) -> None:
        self.send_json(self._get)

    def do_POST(self) -> None:
        self.send_json(self._post)

    def _get(self) -> tuple[HTTPStatus, Any]:
        path = urlsplit(self.path).path
        inbox: ApprovalInbox = self.server.service
        if path == "/healthz":
            return HTTPStatus.OK, {"ok": True}
        if path != REQUESTS_PATH:
            raise HTTPError(HTTPStatus.NOT_FOUND, "no such endpoint")
        if not inbox.reader(self.bearer()):
            raise HTTPError(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token")
        return HTTPStatus.OK, [json.loads(e.model_dump_json()) for e in inbox.entries()]

    def _post(self) -> tuple[HTTPStatus, Any]:
        if urlsplit(self.path).path != REQUESTS_PATH:
            raise HTTPError(HTTPStatus.NOT_FOUND, "no such endpoint")
        inbox: ApprovalInbox = self.server.service
        body = self.read_body(MAX_REQUEST_BYTES)
        if not inbox.signed(self.headers.get(SIGNATURE_HEADER), body):
            raise HTTPError(HTTPStatus.UNAUTHORIZED, f"missing or invalid {SIGNATURE_HEADER}")
        try:
            request = ApprovalRequest.model_validate_json(body)
        except ValidationError:
            raise HTTPError(HTTPStatus.BAD_REQUEST, "not an approval request") from None
        inbox.take(request)
        return HTTPStatus.ACCEPTED, {"taken": request.id}


ApprovalInbox.handler = _Handler


class InboxUnavailable(Exception):
    """The inbox cannot be read (not running, or the token is refused)."""


def read_inbox(url: str, token: str, timeout: float = 5.0) -> list[InboxEntry]:
    """What the inbox at `url` has taken, oldest first."""
    try:
        response = httpx.get(
            url.rstrip("/") + REQUESTS_PATH,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise InboxUnavailable(f"{url}: {type(exc).__name__}") from None
    if response.status_code != HTTPStatus.OK:
        raise InboxUnavailable(f"{url}: HTTP {response.status_code}")
    try:
        return _ENTRIES.validate_json(response.content)
    except ValidationError:
        raise InboxUnavailable(f"{url}: not an approval inbox") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--data", type=Path, default=Path(".sealed/approval-inbox.json"))
    args = parser.parse_args(argv)
    secret, token = os.environ.get(SECRET_ENV), os.environ.get(TOKEN_ENV)
    if not secret or not token:
        print(
            f"error: set {SECRET_ENV} (the webhook's HMAC secret) and {TOKEN_ENV} "
            "(the bearer token readers carry)",
            file=sys.stderr,
        )
        return 2
    inbox = ApprovalInbox(
        secret=secret.encode(), token=token, data_path=args.data, host=args.host, port=args.port
    )
    serve_until_signal(inbox, "approval inbox listening on {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
