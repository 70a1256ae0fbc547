"""The shared HTTP service over real sockets: a deadline on every request (idle,
slow headers, slow body) and a bounded request body."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sealed.httpservice import HTTPError, ServiceHandler, ThreadedService

LIMIT = 1024
TIMEOUT = 1.0


class _Echo(ServiceHandler):
    def do_POST(self) -> None:
        try:
            status, body = HTTPStatus.OK, self.read_body(LIMIT)
        except HTTPError as exc:
            status, body = exc.status, str(exc).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # timeouts are expected here; keep the test output quiet


class Echo(ThreadedService):
    name = "echo"
    handler = _Echo


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo("127.0.0.1", 0, timeout=TIMEOUT) as service:
        yield service


def connect(service: ThreadedService) -> socket.socket:
    url = urlsplit(service.url)
    return socket.create_connection((url.hostname, url.port), timeout=5)


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float | None:
    """Sends `drip` a byte every 0.2 s; returns how long the server took to close
    the connection, or None if it was still open after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if drip:
            try:
                sock.send(drip[:1])
            except OSError:
                return time.monotonic() - start
            drip = drip[1:]
        if select.select([sock], [], [], 0.2)[0]:
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass
            return time.monotonic() - start
    return None


def test_a_prompt_request_is_served(echo: Echo) -> None:
    response = httpx.post(echo.url + "/", content=b"hello")
    assert (response.status_code, response.content) == (200, b"hello")


def test_an_idle_connection_is_closed_after_the_timeout(echo: Echo) -> None:
    with connect(echo) as sock:
        closed = closed_within(sock, 4 * TIMEOUT)
    assert closed is not None and closed < 2 * TIMEOUT


def test_headers_sent_a_byte_at_a_time_are_cut_off(echo: Echo) -> None:
    # Each byte arrives well within the timeout: only a deadline for the whole
    # request, not a timeout per read, stops this client.
    head = b"POST / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 40 + b"\r\n\r\n"
    with connect(echo) as sock:
        closed = closed_within(sock, 4 * TIMEOUT, drip=head)
    assert closed is not None and closed < 2 * TIMEOUT


def test_a_body_slower_than_the_timeout_is_cut_off(echo: Echo) -> None:
    with connect(echo) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
        closed = closed_within(sock, 4 * TIMEOUT, drip=b"b" * 40)
    assert closed is not None and closed < 2 * TIMEOUT


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (["Content-Length: -1"], 400),
        (["Content-Length: abc"], 400),
        (["Content-Length: 1_0"], 400),
        (["Content-Length: +5"], 400),
        (["Content-Length: 5", "Content-Length: 6"], 400),
        (["Content-Length: " + "9" * 5000], 413),
        ([f"Content-Length: {200 * 1024 * 1024}"], 413),
        ([], 411),
        (["Transfer-Encoding: chunked"], 411),
        (["Transfer-Encoding: chunked", "Content-Length: 5"], 411),
    ],
)
def test_a_bad_content_length_is_refused_without_reading(
    echo: Echo, headers: list[str], status: int
) -> None:
    # No body follows the headers: a server that tried to read one would wait for
    # the timeout instead of answering at once.
    head = "\r\n".join(["POST / HTTP/1.1", "Host: x", *headers, "", ""])
    with connect(echo) as sock:
        sock.settimeout(TIMEOUT / 2)
        sock.sendall(head.encode())
        assert sock.recv(65536).split(b" ")[1] == str(status).encode()


def test_a_body_shorter_than_its_content_length_is_refused(echo: Echo) -> None:
    with connect(echo) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(65536).startswith(b"HTTP/1.0 400")
