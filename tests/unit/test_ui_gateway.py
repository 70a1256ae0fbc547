"""The embedded stack's Web UI gateway over real sockets, before a stand-in for
the dev server's UI: the settings answer tells the browser to send credentials
to the codec endpoint; everything else passes through as it came."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sealed.devstack import free_ports
from sealed.devstack.ui_gateway import CODEC_ERROR, UIGateway, include_credentials

CODEC = "http://127.0.0.1:8234"
SETTINGS = {
    "Auth": {"Enabled": False},
    "Codec": {
        "Endpoint": CODEC,
        "PassAccessToken": False,
        "IncludeCredentials": False,
        "DefaultErrorMessage": "",
        "DefaultErrorLink": "",
    },
    "Version": "2.54.1",
}
ASSET = bytes(range(256)) * 64


class _UI(BaseHTTPRequestHandler):
    """What the dev server's UI answers, and what it was asked."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, dict(self.headers.items()), body))
        return body

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/api/v1/settings"):
            data = json.dumps(SETTINGS).encode()
            zipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if zipped:
                data = gzip.compress(data)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/_app/asset.js":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("ETag", '"v1"')
            self.send_header("Set-Cookie", "_csrf=abc; Path=/")
            self.send_header("Content-Length", str(len(ASSET)))
            self.end_headers()
            self.wfile.write(ASSET)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first,", b"second"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self) -> None:
        body = self._record()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UI)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def gateway(upstream: str) -> Iterator[UIGateway]:
    with UIGateway(upstream, CODEC) as g:
        yield g


def test_the_settings_say_to_send_credentials_to_the_codec(gateway: UIGateway) -> None:
    answer = httpx.get(gateway.url + "/api/v1/settings?", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    settings = answer.json()
    assert settings["Codec"] == {
        "Endpoint": CODEC,
        "PassAccessToken": False,
        "IncludeCredentials": True,
        "DefaultErrorMessage": CODEC_ERROR,
        "DefaultErrorLink": f"{CODEC}/login",
    }
    assert {k: v for k, v in settings.items() if k != "Codec"} == {
        k: v for k, v in SETTINGS.items() if k != "Codec"
    }
    # Asked for plain JSON, to be changed, whatever the browser accepts.
    method, path, headers, _ = _UI.seen[-1]
    assert (method, path) == ("GET", "/api/v1/settings?")
    assert "gzip" not in headers.get("Accept-Encoding", "")


def test_everything_else_passes_through(gateway: UIGateway) -> None:
    asset = httpx.get(gateway.url + "/_app/asset.js")
    assert asset.status_code == 200 and asset.content == ASSET
    assert asset.headers["ETag"] == '"v1"' and asset.headers["Set-Cookie"] == "_csrf=abc; Path=/"
    assert asset.headers["Content-Length"] == str(len(ASSET))
    cached = httpx.get(gateway.url + "/_app/asset.js", headers={"If-None-Match": '"v1"'})
    assert cached.status_code == 304 and cached.content == b""
    assert httpx.get(gateway.url + "/chunked").content == b"first,second"
    assert httpx.get(gateway.url + "/missing?x=1").status_code == 404
    posted = httpx.post(
        gateway.url + "/api/v1/namespaces/default/workflows/w/signal?x=1",
        content=b'{"input": 1}',
        headers={"X-Csrf-Token": "abc", "Cookie": "sealed_codec=session; _csrf=abc"},
    )
    assert posted.status_code == 201 and posted.content == b'{"input": 1}'
    method, path, headers, body = _UI.seen[-1]
    assert (method, path, body) == (
        "POST",
        "/api/v1/namespaces/default/workflows/w/signal?x=1",
        b'{"input": 1}',
    )
    # The codec server's session is not the dev server's business.
    assert headers["X-Csrf-Token"] == "abc" and headers["Cookie"] == "_csrf=abc"
    httpx.get(gateway.url + "/missing", headers={"Cookie": "sealed_codec=session"})
    assert "Cookie" not in _UI.seen[-1][2]
    assert headers["Host"] == gateway.url.removeprefix("http://")


def test_another_host_name_is_sent_to_127_0_0_1(gateway: UIGateway) -> None:
    port = gateway.url.rsplit(":", 1)[1]
    moved = httpx.get(
        gateway.url + "/namespaces/default/workflows?x=1", headers={"Host": f"localhost:{port}"}
    )
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"http://127.0.0.1:{port}/namespaces/default/workflows?x=1"


def test_without_the_dev_servers_ui_a_bad_gateway() -> None:
    [closed] = free_ports(1)
    with UIGateway(f"http://127.0.0.1:{closed}", CODEC) as lonely:
        assert httpx.get(lonely.url + "/").status_code == 502


def test_an_unexpected_settings_answer_is_left_alone() -> None:
    for odd in (b"not json", b"[]", b'{"Codec": null}', b'{"Codec": {"Endpoint": ""}}'):
        assert include_credentials(odd, CODEC) == odd
