"""Red-team tests of the codec server's one-click sign-in and the embedded
stack's Web UI gateway, over real sockets: what broke (and is fixed) and the
cheap checks of what held."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from sealed.codec import KeyRing
from sealed.codec.server import COOKIE, CodecServer
from sealed.codec.signin import safe_next, signin_link
from sealed.devstack.ui_gateway import UIGateway, _without_codec_session
from tests.unit.test_ui_gateway import _UI, upstream  # noqa: F401 - the stand-in UI fixture

KEYRING = KeyRing({"k1": b"\x07" * 32}, "k1")
TOKEN = "codec-test-token-0123456789"
UI = "http://127.0.0.1:8233"
CODEC = "http://127.0.0.1:8234"


@pytest.fixture(scope="module")
def codec() -> Iterator[CodecServer]:
    with CodecServer(KEYRING, TOKEN, [UI], signin_redirect=[UI]) as s:
        yield s


@pytest.fixture(scope="module")
def gateway(upstream: str) -> Iterator[UIGateway]:  # noqa: F811
    with UIGateway(upstream, CODEC) as g:
        yield g


def raw(url: str, request: str) -> bytes:
    """`request` as sent, whatever a browser would send; the whole answer."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request.encode("latin-1"))
        received = []
        while chunk := sock.recv(65536):
            received.append(chunk)
    return b"".join(received)


# --- the codec server's sign-in ------------------------------------------------------


def test_a_page_named_beyond_latin_1_is_opened_not_a_burnt_ticket(codec: CodecServer) -> None:
    """Broke: `next` was put in the Location header as decoded, and a character
    beyond Latin-1 raised in the middle of the answer: the ticket taken, a
    session made, the connection dropped with a traceback in the log."""
    page = f"{UI}/namespaces/default/workflows/mission-\u0100\u00e9\x7f"
    opened = httpx.get(signin_link(codec.url, TOKEN, page))
    assert opened.status_code == 303
    assert opened.headers["Location"] == (
        f"{UI}/namespaces/default/workflows/mission-%C4%80%C3%A9%7F"
    )
    assert COOKIE in opened.cookies
    # What was encoded already stays as it was.
    assert safe_next(f"{UI}/a%20b?q=%C4%80#f", frozenset({UI})) == f"{UI}/a%20b?q=%C4%80#f"
    login = httpx.get(codec.url + "/login", params={"next": page})
    assert 'value="http://127.0.0.1:8233/namespaces/default/workflows/mission-%C4%80' in login.text


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8233%2f.evil.example/",
        "http://127.0.0.1:8233./",
        "http://127.0.0.1.:8233/",
        "http:\\\\evil.example",
        "http://[::ffff:127.0.0.1]:8233/",
        "http://127.0.0.1:8233\t@evil.example/",
        "http://127.0.0.1:8233\u3002evil.example/",
        "\x00http://127.0.0.1:8233/",
        " http://127.0.0.1:8233/",
    ],
)
def test_held_other_spellings_of_another_place_are_refused(target: str) -> None:
    assert safe_next(target, frozenset({UI})) is None


@pytest.mark.parametrize(
    "origin", ["null", "http://127.0.0.1:9999", "https://127.0.0.1:8233", "http://evil.example"]
)
def test_held_cors_credentials_only_for_the_web_ui(codec: CodecServer, origin: str) -> None:
    for response in (
        httpx.options(codec.url + "/signin-ticket", headers={"Origin": origin}),
        httpx.post(
            codec.url + "/signin-ticket",
            headers={"Origin": origin, "Authorization": f"Bearer {TOKEN}"},
        ),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers


# --- the Web UI gateway --------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_a_write_under_another_host_name_is_refused_not_forwarded(
    gateway: UIGateway, method: str
) -> None:
    """Broke: only GET and HEAD were checked for the host name; a page of
    another site whose name is rebound to 127.0.0.1 (DNS rebinding) reads no
    page but could POST, with a CSRF cookie of its own name, to the UI's API
    (terminate, signal, reset, batch): the gateway forwarded it."""
    port = gateway.url.rsplit(":", 1)[1]
    seen = len(_UI.seen)
    for host in (f"evil.example:{port}", f"localhost:{port}", "127.0.0.1.evil.example"):
        refused = httpx.request(
            method,
            gateway.url + "/api/v1/namespaces/default/workflows/w/terminate",
            content=b"{}",
            headers={"Host": host, "Cookie": "_csrf=abc", "X-Csrf-Token": "abc"},
        )
        assert refused.status_code == 421, host
    assert len(_UI.seen) == seen  # the dev server's UI never saw them
    # Under its own name it still passes.
    assert httpx.post(gateway.url + "/anything", content=b"{}").status_code == 201


def test_a_request_target_that_is_no_path_is_refused(gateway: UIGateway) -> None:
    """Broke: the redirect to 127.0.0.1 glued the request target to the origin,
    so `GET @evil.example/` under another host name answered `Location:
    http://127.0.0.1:<port>@evil.example/`; an absolute URL as the target was
    forwarded as one."""
    seen = len(_UI.seen)
    for target, host in (
        ("@evil.example/x", "localhost"),
        ("@evil.example/x", "127.0.0.1"),
        ("http://evil.example/api/v1/settings", "127.0.0.1"),
        (".evil.example/", "localhost"),
    ):
        answer = raw(gateway.url, f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 400 "), (target, answer)
        assert b"Location" not in answer and b"evil" not in answer
    assert len(_UI.seen) == seen
    # `//name` is a path of the gateway (the stdlib reads it as `/name`).
    moved = raw(gateway.url, "GET //evil.example/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
    port = gateway.url.rsplit(":", 1)[1]
    assert f"Location: http://127.0.0.1:{port}/evil.example/\r\n".encode() in moved


def test_the_codec_session_is_stripped_however_it_is_spaced() -> None:
    # The codec server's cookie parser reads `name =value` as `name=value`.
    for header in ("sealed_codec =s; a=1", "a=1;sealed_codec= s", "a=1;  sealed_codec\t=s"):
        assert _without_codec_session(header) == "a=1", header
    assert _without_codec_session("sealed_codecx=1; xsealed_codec=2") == (
        "sealed_codecx=1; xsealed_codec=2"
    )
