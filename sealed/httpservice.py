"""A small stdlib HTTP service on its own thread (the demo's ticket service, the
codec server): start, stop, its URL, and serving until SIGTERM or Ctrl-C.

Every connection gets a deadline and every body a bound, here rather than in each
service, so that no service built on this can forget them: a client that never
finishes its request, or claims an endless body, holds a thread for seconds, not
forever."""

from __future__ import annotations

import hmac
import io
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Long enough for a slow link to send a codec page of payloads, short enough that
# clients which stall (or stall on purpose) cannot pile up threads.
REQUEST_TIMEOUT = 30.0
log = logging.getLogger(__name__)


class HTTPError(Exception):
    """A request refused with `status`; the message is safe to send back."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class _DeadlineReader(io.RawIOBase):
    """The request side of a connection, with one deadline for the whole request.

    A socket timeout alone bounds each read, so a client sending a byte just inside
    it (slow loris) would never be cut off; here every read may only wait for what
    is left of the deadline."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request took longer than its deadline")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv_into(buffer)
        finally:
            # Writes keep the full timeout: an answer is not cut short because
            # the request used most of its deadline.
            self._sock.settimeout(self._timeout)


class ServiceServer(ThreadingHTTPServer):
    """Hands each request handler the service it serves, as `self.server.service`."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        service: Any,
        request_timeout: float,
    ) -> None:
        self.service = service
        self.request_timeout = request_timeout
        super().__init__(address, handler)


class ServiceHandler(BaseHTTPRequestHandler):
    """The base of every handler served here: the deadline and `read_body`."""

    server: ServiceServer
    # One request per connection: a body left unread (refused before reading it)
    # is never taken for the next request, and the connection's deadline is the
    # request's. The base class answers a TimeoutError by closing the connection.
    protocol_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        timeout = self.server.request_timeout
        # For writes: a client that stops reading the answer is cut off too.
        self.connection.settimeout(timeout)
        # The stock reader must be closed, not just dropped: it holds a reference
        # that would keep the socket open after the server closes it.
        self.rfile.close()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, timeout))

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only, at debug (the base class writes every one to
        # stderr): never headers (tokens, cookies) nor bodies (payloads).
        log.debug("%s " + format, self.address_string(), *args)

    def read_body(self, limit: int) -> bytes:
        """The body, at most `limit` bytes, read only once its length is known to be
        sane; anything else is refused before a byte of it is read."""
        # Chunked bodies would need a reader of their own, and a request with both
        # headers is the classic request-smuggling shape: neither is worth it here.
        if "Transfer-Encoding" in self.headers:
            raise HTTPError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            raise HTTPError(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
        value = lengths[0].strip()
        # Digits only: int() also takes "-1" (read to the end of the stream), "+5"
        # and "1_0", which a proxy in front may read differently.
        if len(lengths) > 1 or not (value.isascii() and value.isdigit()):
            raise HTTPError(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        # The digit count first: int() refuses strings past 4300 digits.
        length = int(value) if len(value) <= len(str(limit)) else limit + 1
        if length > limit:
            raise HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {limit} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            raise HTTPError(HTTPStatus.BAD_REQUEST, "request body shorter than Content-Length")
        return body

    def bearer(self) -> str | None:
        """The request's bearer token, if it carries one."""
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def send_json(self, route: Callable[[], tuple[HTTPStatus, Any]]) -> None:
        """Answers with what `route` returns, or with its HTTPError, as JSON."""
        try:
            status, payload = route()
        except HTTPError as e:
            status, payload = e.status, {"error": str(e)}
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def same_token(given: str | None, expected: bytes) -> bool:
    # Constant time: the comparison must not tell an attacker how much matched.
    return given is not None and hmac.compare_digest(given.encode(), expected)


class ThreadedService:
    name: ClassVar[str] = "http-service"
    handler: ClassVar[type[ServiceHandler]]

    def __init__(self, host: str, port: int, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self._address = (host, port)
        self.timeout = timeout
        self._server: ServiceServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._server = ServiceServer(self._address, self.handler, self, self.timeout)
        # A short poll interval keeps stop() (which waits for the next poll) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_signal(service: ThreadedService, banner: str) -> None:
    """Runs `service` until SIGTERM or SIGINT, then stops it cleanly."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.start()
    print(banner.format(url=service.url), flush=True)
    try:
        stopping.wait()
    finally:
        service.stop()
