"""One-click sign-in to the codec server, for a Web UI the embedded stack serves.

A token holder (`sealed demo`, `sealed dev`) asks the codec server for a ticket
(`POST /signin-ticket` with the bearer token) and prints a link,
`<codec>/signin?ticket=...&next=<a Web UI page>`. Opened, it sets the same
session cookie `/login` does and redirects to the page: the mission, decoded,
in one click. The token itself is never in a URL; a ticket is random, works
once, for minutes, and only redirects into the Web UI origins the server was
started with (no open redirect). Off unless those origins are given
(`sealed codec-server --signin-redirect`, which only the embedded stack passes).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

# The session cookie /login and /signin set (HttpOnly, SameSite=Strict).
COOKIE = "sealed_codec"
TICKET_PATH = "/signin-ticket"
SIGNIN_PATH = "/signin"
# Long enough to read a demo's output and click, short enough that a link left in
# a scrollback or a shell history is dead by the time anyone else finds it.
TICKET_LIFETIME = 10 * 60.0
# Only token holders mint tickets; a script of theirs in a loop must not grow
# this process without end: past the cap, the oldest ticket goes.
MAX_TICKETS = 100
# What a Location header carries as it is: printable ASCII (a `%` escape stays
# one). Anything else in a page's address (beyond ASCII, DEL) is percent-encoded
# as a browser would: a header is Latin-1, and the redirect must not fail after
# the ticket is taken.
_AS_IS = "".join(map(chr, range(0x21, 0x7F)))


class SignInUnavailable(Exception):
    """The codec server gave no sign-in ticket: down, refusing the token, or not
    giving sign-in links at all (a production codec server, by default)."""


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]`, lower-cased, of an absolute http(s) URL; None for
    anything else (relative, userinfo, other schemes, odd characters)."""
    if any(c.isspace() or c == "\\" or ord(c) < 0x20 for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def safe_next(url: str | None, origins: frozenset[str]) -> str | None:
    """`url` rebuilt from its parts if it points into one of `origins`, else None;
    printable ASCII only (what is not is percent-encoded)."""
    if not url:
        return None
    origin = origin_of(url)
    if origin is None or origin not in origins:
        return None
    parts = urlsplit(url)
    if parts.path and not parts.path.startswith("/"):
        return None
    rebuilt = urlunsplit(
        (parts.scheme, parts.netloc, parts.path or "/", parts.query, parts.fragment)
    )
    return quote(rebuilt, safe=_AS_IS)


class Tickets:
    """Live sign-in tickets in memory, by their SHA-256 (this process holds none
    that could be replayed), oldest first; each is taken once."""

    def __init__(self, lifetime: float = TICKET_LIFETIME, cap: int = MAX_TICKETS) -> None:
        if lifetime <= 0 or cap < 1:
            raise ValueError("tickets need a positive lifetime and cap")
        self.lifetime = lifetime
        self._cap = cap
        self._expiry: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> str:
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._forget_expired(now)
            while len(self._expiry) >= self._cap:
                self._expiry.popitem(last=False)
            self._expiry[_digest(ticket)] = now + self.lifetime
        return ticket

    def take(self, ticket: str | None) -> bool:
        """True once for a live ticket: it is gone after, used or not."""
        if not ticket:
            return False
        with self._lock:
            self._forget_expired(time.monotonic())
            return self._expiry.pop(_digest(ticket), None) is not None

    def _forget_expired(self, now: float) -> None:
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode()).digest()


def origins_of(urls: Iterable[str]) -> frozenset[str]:
    """The origins of `urls`; ValueError for one that is no http(s) origin."""
    found = set()
    for url in urls:
        origin = origin_of(url.rstrip("/"))
        if origin is None:
            raise ValueError(f"not an http(s) origin: {url!r}")
        found.add(origin)
    return frozenset(found)


def signin_link(codec_url: str, token: str, next_url: str, *, timeout: float = 5.0) -> str:
    """A one-time link that signs a browser in to the codec server at `codec_url`
    and opens `next_url`; SignInUnavailable when the server gives none."""
    base = codec_url.rstrip("/")
    try:
        response = httpx.post(
            base + TICKET_PATH, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
        response.raise_for_status()
        ticket = response.json()["ticket"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise SignInUnavailable(f"no sign-in ticket from {base}: {exc}") from None
    if not isinstance(ticket, str) or not ticket:
        raise SignInUnavailable(f"no sign-in ticket from {base}")
    return f"{base}{SIGNIN_PATH}?{urlencode({'ticket': ticket, 'next': next_url})}"
