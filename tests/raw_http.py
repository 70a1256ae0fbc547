"""A request a well-behaved client would never send: for the services' tests."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def head_only(base_url: str, path: str, *headers: str) -> bytes:
    """Sends a POST's head and never its body; returns everything the server sends
    before it closes the connection, which must be within a second."""
    url = urlsplit(base_url)
    assert url.hostname is not None and url.port is not None
    head = "\r\n".join([f"POST {path} HTTP/1.1", "Host: x", *headers, "", ""])
    with socket.create_connection((url.hostname, url.port), timeout=1) as sock:
        sock.sendall(head.encode())
        received = []
        while chunk := sock.recv(65536):
            received.append(chunk)
    return b"".join(received)
