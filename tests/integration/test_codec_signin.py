"""One-click sign-in to the codec server over real HTTP: a ticket only for the
token, good once and for minutes, redirecting only into the Web UI origins the
server was started with; off unless started so. And /login going back to the
page it was opened for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from sealed.codec import KeyRing, encrypt_payload
from sealed.codec.server import COOKIE, CodecServer
from sealed.codec.signin import SignInUnavailable, safe_next, signin_link

pytestmark = pytest.mark.integration

KEYRING = KeyRing({"k1": b"\x07" * 32}, "k1")
TOKEN = "codec-test-token-0123456789"
UI = "http://127.0.0.1:8233"
MISSION_PAGE = f"{UI}/namespaces/default/workflows/mission-x"


@pytest.fixture(scope="module")
def server() -> Iterator[CodecServer]:
    with CodecServer(KEYRING, TOKEN, [UI], signin_redirect=[UI]) as s:
        yield s


def ticket(server: CodecServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}".strip()}
    return httpx.post(server.url + "/signin-ticket", headers=headers)


def open_link(server: CodecServer, link: str, **headers: str) -> httpx.Response:
    assert link.startswith(server.url)
    return httpx.get(link, headers=headers)


def decodes(server: CodecServer, cookie: str) -> bool:
    [payload] = pydantic_data_converter.payload_converter.to_payloads(["x"])
    body = json_format.MessageToJson(Payloads(payloads=[encrypt_payload(KEYRING, payload)]))
    response = httpx.post(
        server.url + "/decode",
        content=body,
        headers={"Content-Type": "application/json", "Cookie": f"{COOKIE}={cookie}"},
    )
    return response.status_code == 200


def test_a_link_signs_in_once_and_opens_the_page(server: CodecServer) -> None:
    link = signin_link(server.url, TOKEN, MISSION_PAGE)
    assert TOKEN not in link
    assert parse_qs(urlsplit(link).query)["next"] == [MISSION_PAGE]
    opened = open_link(server, link)
    assert opened.status_code == 303
    assert opened.headers["Location"] == MISSION_PAGE
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert opened.headers["Cache-Control"] == "no-store"
    cookie = opened.cookies[COOKIE]
    assert "HttpOnly" in opened.headers["Set-Cookie"]
    assert "SameSite=Strict" in opened.headers["Set-Cookie"]
    assert decodes(server, cookie)
    # Twice: refused, sent to sign in with the token (and back to the page after).
    again = open_link(server, link)
    assert again.status_code == 401 and COOKIE not in again.cookies
    assert "used already or has expired" in again.text
    assert f'name="next" value="{MISSION_PAGE}"' in again.text
    # Unless this browser is signed in already: then it just goes to the page.
    signed_in = open_link(server, link, Cookie=f"{COOKIE}={cookie}")
    assert signed_in.status_code == 303 and "Set-Cookie" not in signed_in.headers


def test_only_the_token_gets_a_ticket(server: CodecServer) -> None:
    for token in (None, "", "wrong", TOKEN + "x"):
        assert ticket(server, token).status_code == 401, token
    cookie = open_link(server, signin_link(server.url, TOKEN, UI)).cookies[COOKIE]
    # A session cannot mint more sessions.
    by_cookie = httpx.post(server.url + "/signin-ticket", headers={"Cookie": f"{COOKIE}={cookie}"})
    assert by_cookie.status_code == 401
    with pytest.raises(SignInUnavailable):
        signin_link(server.url, "wrong", UI)
    first, second = ticket(server).json(), ticket(server).json()
    assert first["ticket"] != second["ticket"] and TOKEN not in first["ticket"]
    assert first["expires_in"] == 600


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.example/",
        "https://127.0.0.1:8233/",  # another scheme is another origin
        "http://127.0.0.1:8234/",  # another port too (the codec server's own)
        "http://localhost:8233/",
        "http://127.0.0.1:8233@evil.example/",
        "http://evil.example\\@127.0.0.1:8233/",
        "//evil.example/",
        "/namespaces",
        "javascript:alert(1)",
        "http://127.0.0.1:8233/\r\nSet-Cookie: x=y",
        "",
    ],
)
def test_a_link_leads_only_into_the_web_ui(server: CodecServer, target: str) -> None:
    link = signin_link(server.url, TOKEN, target)
    refused = open_link(server, link)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert COOKIE not in refused.cookies
    # The ticket was not spent on a bad link.
    [unspent] = parse_qs(urlsplit(link).query)["ticket"]
    fixed = f"{server.url}/signin?{urlencode({'ticket': unspent, 'next': UI + '/x'})}"
    assert open_link(server, fixed).headers["Location"] == UI + "/x"


def test_safe_next_rebuilds_the_url_it_allows() -> None:
    allowed = frozenset({UI})
    assert safe_next(MISSION_PAGE + "?a=1#h", allowed) == MISSION_PAGE + "?a=1#h"
    assert safe_next(UI, allowed) == UI + "/"
    assert safe_next("HTTP://127.0.0.1:8233/x", allowed) == "http://127.0.0.1:8233/x"
    assert safe_next("http://127.0.0.1:8233:99/x", allowed) is None
    assert safe_next(None, allowed) is None


def test_a_ticket_expires() -> None:
    with CodecServer(KEYRING, TOKEN, signin_redirect=[UI], ticket_lifetime=0.5) as short:
        link = signin_link(short.url, TOKEN, UI)
        time.sleep(0.7)
        assert open_link(short, link).status_code == 401


def test_login_goes_back_to_the_page_it_was_opened_for(server: CodecServer) -> None:
    page = httpx.get(server.url + "/login", params={"next": MISSION_PAGE})
    assert f'name="next" value="{MISSION_PAGE}"' in page.text
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    form = {"token": TOKEN, "next": MISSION_PAGE}
    signed_in = httpx.post(server.url + "/login", data=form)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == MISSION_PAGE
    assert decodes(server, signed_in.cookies[COOKIE])
    wrong = httpx.post(server.url + "/login", data={**form, "token": "wrong"})
    assert wrong.status_code == 401 and f'value="{MISSION_PAGE}"' in wrong.text
    # Elsewhere: signed in, but not sent there.
    elsewhere = httpx.post(server.url + "/login", data={**form, "next": "http://evil.example/"})
    assert elsewhere.status_code == 200 and "Location" not in elsewhere.headers
    assert "evil" not in elsewhere.text


def test_without_signin_redirect_there_are_no_links() -> None:
    with CodecServer(KEYRING, TOKEN, [UI]) as production:
        assert ticket(production).status_code == 404
        assert httpx.get(production.url + "/signin", params={"next": UI}).status_code == 404
        with pytest.raises(SignInUnavailable):
            signin_link(production.url, TOKEN, UI)
        # /login stays, and sends nobody anywhere.
        form = {"token": TOKEN, "next": MISSION_PAGE}
        signed_in = httpx.post(production.url + "/login", data=form)
        assert signed_in.status_code == 200 and "Location" not in signed_in.headers
        assert decodes(production, signed_in.cookies[COOKIE])


def test_signin_redirect_must_be_origins() -> None:
    for bad in ("127.0.0.1:8233", "ftp://127.0.0.1", "http://user@127.0.0.1:8233"):
        with pytest.raises(ValueError, match="origin"):
            CodecServer(KEYRING, TOKEN, signin_redirect=[bad])
