"""The codec server: `/decode` and `/encode` for the Temporal Web UI and
`temporal workflow show --codec-endpoint`, so people can read encrypted
histories without the keys leaving this process.

No token, no decoding: every `/encode` and `/decode` needs the bearer token
(`Authorization: Bearer ...`, as `temporal --codec-auth` sends it), or the
`sealed_codec` cookie that `/login` sets once the token is typed in (a random
session id, not derived from the token, that this server forgets after 12 hours).
Either is checked before a byte of the body is read. The cookie is for the Web UI,
which sends a bearer token only over https and only with its own login; it sends
cookies to a codec endpoint on another origin only when told to include
credentials (the UI server's `codec.includeCredentials`, which the embedded
stack's Web UI has; or, per browser, its codec settings). CORS answers only the
configured origins (the UI's), with credentials allowed.

With `signin_redirect` (the embedded stack), a token holder can also get a
one-time sign-in link (sealed.codec.signin) that sets the cookie and opens a page
of that Web UI; `/login?next=` redirects there too. Without it, neither exists.

Stdlib only, like the ticket service, so it needs no web framework. Run by
`sealed codec-server`, in the dev stack as in production.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from sealed.codec.keyring import CodecError, KeyRing
from sealed.codec.payload import decrypt_payload, encrypt_payload
from sealed.codec.signin import COOKIE as COOKIE  # the session cookie's name, re-exported
from sealed.codec.signin import (
    SIGNIN_PATH,
    TICKET_LIFETIME,
    TICKET_PATH,
    Tickets,
    origins_of,
    safe_next,
)
from sealed.httpservice import (
    REQUEST_TIMEOUT,
    HTTPError,
    ServiceHandler,
    ThreadedService,
    same_token,
    serve_until_signal,
)

# A history page the UI decodes can hold many payloads of up to 2 MiB each.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
# /login reads its body before it can authenticate (the token is in it): a form
# with a token and the page to go back to needs no more.
MAX_LOGIN_BYTES = 4 * 1024
# A working day: a stolen cookie is worth hours, not forever; the browser is told
# the same lifetime (Max-Age) so it stops sending a session the server forgot.
SESSION_LIFETIME = 12 * 60 * 60.0
# Only token holders can log in, but a script of theirs in a loop must not grow
# this process without end: past the cap, the oldest session goes.
MAX_SESSIONS = 1000
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"

_LOGIN_FORM = """<!doctype html><title>Sealed codec server</title>
<form method="post" action="/login"><p>{message}</p>{next}
<label>Codec token <input type="password" name="token" autocomplete="off" autofocus></label>
<button>Sign in</button></form>"""
SIGNED_IN = (
    "Signed in. Reload the Temporal UI page: it decodes with this browser's session "
    "when it sends credentials to this server (the embedded stack's Web UI does)."
)


class _Sessions:
    """Live /login sessions in memory, oldest first (all share one lifetime, so
    oldest is also first to expire). A restart signs everyone out, by design."""

    def __init__(self, lifetime: float, cap: int) -> None:
        if lifetime <= 0 or cap < 1:
            raise ValueError("sessions need a positive lifetime and cap")
        self.lifetime = lifetime
        self._cap = cap
        self._expiry: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()  # one handler thread per request

    def new(self) -> str:
        # Random, not derived from the token: one leaked cookie says nothing about
        # the token or other sessions, and it dies with its expiry.
        session = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._forget_expired(now)
            while len(self._expiry) >= self._cap:
                self._expiry.popitem(last=False)
            self._expiry[_key(session)] = now + self.lifetime
        return session

    def valid(self, session: str | None) -> bool:
        if session is None:
            return False
        with self._lock:
            self._forget_expired(time.monotonic())
            return _key(session) in self._expiry

    def _forget_expired(self, now: float) -> None:
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)


def _key(session: str) -> bytes:
    # Sessions are looked up by their SHA-256: a dict lookup is not constant time,
    # but its timing then depends on the digest of a guess, which no one can steer
    # towards a live id byte by byte as with a plain comparison. And this process's
    # memory holds no cookie that could be replayed.
    return hashlib.sha256(session.encode()).digest()


class CodecServer(ThreadedService):
    name = "codec server"

    def __init__(
        self,
        keyring: KeyRing,
        token: str,
        allowed_origins: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allowed_namespaces: Iterable[str] | None = None,
        session_lifetime: float = SESSION_LIFETIME,
        max_sessions: int = MAX_SESSIONS,
        signin_redirect: Iterable[str] = (),
        ticket_lifetime: float = TICKET_LIFETIME,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        if not token:
            raise ValueError("the codec server needs a non-empty token")
        self.keyring = keyring
        self._token = token.encode()
        self.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)
        # None: any namespace (the token is the gate); a set: only those.
        self.allowed_namespaces = (
            None if allowed_namespaces is None else frozenset(allowed_namespaces)
        )
        self._sessions = _Sessions(session_lifetime, max_sessions)
        # Where sign-in links and /login may send a browser after: the Web UI
        # origins given, none by default (and then no sign-in links at all).
        self.redirect_origins = origins_of(signin_redirect)
        self.tickets = Tickets(ticket_lifetime)
        super().__init__(host, port, timeout=timeout)

    def next_page(self, url: str | None) -> str | None:
        """`url` if a sign-in may redirect there (a page of an allowed Web UI)."""
        return safe_next(url, self.redirect_origins)

    def token_ok(self, token: str | None) -> bool:
        return same_token(token, self._token)

    def cookie_ok(self, value: str | None) -> bool:
        return self._sessions.valid(value)

    def new_session_cookie(self) -> str:
        """A Set-Cookie value for a new session. HttpOnly: page scripts cannot read
        it. SameSite=Strict: other sites cannot make the browser send it (the UI on
        another port of this host is same-site)."""
        return (
            f"{COOKIE}={self._sessions.new()}; HttpOnly; SameSite=Strict; Path=/; "
            f"Max-Age={math.ceil(self._sessions.lifetime)}"
        )


class _Handler(ServiceHandler):
    server_version = "sealed-codec/1"

    # --- routes ----------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        # A CORS preflight carries no credentials by the browser's rules: answer it
        # without authentication, but only allowed origins get the CORS headers.
        self.send_response(HTTPStatus.NO_CONTENT)
        if self._cors_headers():
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        codec = self.server.service
        if url.path == "/healthz":
            self._reply(HTTPStatus.OK, b'{"ok": true}', "application/json")
        elif url.path == "/login":
            next_page = codec.next_page(_query(url.query, "next"))
            self._login_page(
                HTTPStatus.OK, "Sign in to decode payloads in the Temporal UI.", next_page
            )
        elif url.path == SIGNIN_PATH and codec.redirect_origins:
            self._signin(url.query)
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such endpoint")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        codec = self.server.service
        try:
            if path == "/login":
                self._login()
                return
            if path == TICKET_PATH and codec.redirect_origins:
                self._new_ticket()
                return
            ops: dict[str, Callable[[KeyRing, Payload], Payload]] = {
                "/encode": encrypt_payload,
                # For people reading histories: a plaintext payload is shown as it
                # is (and named so by the UI), never refused.
                "/decode": lambda ring, payload: decrypt_payload(ring, payload, strict=False),
            }
            op = ops.get(path)
            if op is None:
                raise HTTPError(HTTPStatus.NOT_FOUND, "no such endpoint")
            # Before a byte of the body is read: without a token, a request costs
            # this process its headers and nothing more.
            if not (codec.token_ok(self.bearer()) or codec.cookie_ok(self._cookie())):
                raise HTTPError(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token")
            namespace = self.headers.get("X-Namespace")
            if codec.allowed_namespaces is not None and namespace not in codec.allowed_namespaces:
                raise HTTPError(HTTPStatus.FORBIDDEN, "namespace not served by this codec server")
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                raise HTTPError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected application/json")
            raw = self.read_body(MAX_REQUEST_BYTES)
            try:
                payloads = json_format.Parse(raw, Payloads())
            except (json_format.ParseError, ValueError):
                raise HTTPError(HTTPStatus.BAD_REQUEST, "body is not Payloads JSON") from None
            try:
                out = Payloads(payloads=[op(codec.keyring, p) for p in payloads.payloads])
            except CodecError as exc:  # names key ids only, never contents
                raise HTTPError(HTTPStatus.BAD_REQUEST, str(exc)) from None
            self._reply(HTTPStatus.OK, json_format.MessageToJson(out).encode(), "application/json")
        except HTTPError as exc:
            self._error(exc.status, str(exc))

    def _login(self) -> None:
        codec = self.server.service
        form = parse_qs(self.read_body(MAX_LOGIN_BYTES).decode("utf-8", errors="replace"))
        token = (form.get("token") or [""])[0]
        next_page = codec.next_page((form.get("next") or [""])[0])
        if not codec.token_ok(token):
            self._login_page(HTTPStatus.UNAUTHORIZED, "Wrong token.", next_page)
            return
        cookie = codec.new_session_cookie()
        if next_page is not None:
            self._redirect(next_page, cookie)
        else:
            self._login_page(HTTPStatus.OK, SIGNED_IN, cookie=cookie)

    def _new_ticket(self) -> None:
        """A one-time sign-in ticket, for the bearer token only (a session cannot
        mint more sessions); nothing of the body is read."""
        codec = self.server.service
        if not codec.token_ok(self.bearer()):
            raise HTTPError(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token")
        answer = {"ticket": codec.tickets.new(), "expires_in": math.floor(codec.tickets.lifetime)}
        self._reply(HTTPStatus.OK, json.dumps(answer).encode(), "application/json")

    def _signin(self, query: str) -> None:
        """A sign-in link opened: the ticket taken (once), the session cookie set,
        and the browser sent on to the Web UI page it names, never elsewhere."""
        codec = self.server.service
        next_page = codec.next_page(_query(query, "next"))
        if next_page is None:
            # Refused before the ticket is taken: a bad link does not burn it.
            self._login_page(
                HTTPStatus.BAD_REQUEST, "This link does not lead into the Temporal UI."
            )
            return
        if codec.tickets.take(_query(query, "ticket")):
            self._redirect(next_page, codec.new_session_cookie())
        elif codec.cookie_ok(self._cookie()):
            self._redirect(next_page)  # signed in already (an old link clicked again)
        else:
            self._login_page(
                HTTPStatus.UNAUTHORIZED,
                "This sign-in link was used already or has expired: sign in with the "
                "codec token instead.",
                next_page,
            )

    # --- helpers -------------------------------------------------------------------

    def _cookie(self) -> str | None:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie") or "").get(COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel is not None else None

    def _cors_headers(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is None or origin.rstrip("/") not in self.server.service.allowed_origins:
            return False
        self.send_header("Access-Control-Allow-Origin", origin)
        self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Vary", "Origin")
        return True

    def _login_page(
        self,
        status: HTTPStatus,
        message: str,
        next_page: str | None = None,
        cookie: str | None = None,
    ) -> None:
        hidden = (
            f'<input type="hidden" name="next" value="{html.escape(next_page)}">'
            if next_page is not None
            else ""
        )
        body = _LOGIN_FORM.format(message=html.escape(message), next=hidden).encode()
        self._reply(status, body, "text/html; charset=utf-8", cookie)

    def _redirect(self, location: str, cookie: str | None = None) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Location", location)
        # The sign-in URL (its ticket) is not passed on to the page it opens.
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _error(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self._reply(status, body, "application/json")

    def _reply(
        self, status: HTTPStatus, body: bytes, content_type: str, cookie: str | None = None
    ) -> None:
        self.send_response(status)
        self._cors_headers()  # on errors too, so the UI can tell a 401 from a network error
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="sealed-codec"')
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        if content_type.startswith("text/html"):
            # The sign-in pages: never framed by another page, and their URL (a
            # sign-in link's ticket, used by then) not passed on.
            self.send_header("Content-Security-Policy", "frame-ancestors 'none'")
            self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")  # decoded payloads stay out of caches
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


CodecServer.handler = _Handler


def _query(query: str, name: str) -> str | None:
    values = parse_qs(query).get(name)
    return values[0] if values else None


def serve(server: CodecServer) -> None:
    """Run until SIGTERM or SIGINT (`sealed codec-server`)."""
    ids = ", ".join(server.keyring.key_ids)
    serve_until_signal(server, f"codec server listening on {{url}} (keys {ids})")
