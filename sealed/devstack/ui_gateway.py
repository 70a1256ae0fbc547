"""The embedded stack's Web UI, as its users open it: a pass-through in front of
the Temporal dev server's own UI that changes one answer, the UI's settings, so
that it sends the codec server's session cookie with every /decode.

Why: the Web UI sends cookies to a codec endpoint on another origin only when its
server says `codec.includeCredentials` (or a user overrides the codec endpoint in
the browser's settings and ticks "Include cross-origin credentials"), and
`temporal server start-dev` has no option for it (it sets the endpoint only).
Here the settings gain that, and a codec error banner that says where to sign in.
Everything else passes through untouched, byte for byte, but the codec server's
session cookie, which the browser sends to every port of its host: the dev
server's UI never sees it.

The cookie belongs to the host the codec server was opened on, 127.0.0.1, and is
SameSite: a UI opened as `localhost` is another site, whose requests would not
carry it, so a page asked for under another host name is redirected to 127.0.0.1.
Any other request under another host name is refused (421), never forwarded: a
page whose own name an attacker rebinds to 127.0.0.1 (DNS rebinding) could
otherwise send the UI's API its writes (terminate, signal, reset, batch) with a
CSRF cookie of its own name. A request target that is not a path (`@host`, an
absolute URL) is refused too.

Run by the dev stack: `python -m sealed.devstack.ui_gateway --port UI --upstream
URL --codec URL`."""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
from http import HTTPStatus
from urllib.parse import urlsplit

from sealed.codec.signin import COOKIE
from sealed.httpservice import (
    REQUEST_TIMEOUT,
    HTTPError,
    ServiceHandler,
    ThreadedService,
    serve_until_signal,
)

SETTINGS_PATH = "/api/v1/settings"
# The UI sends little (a signal's input, a reset's reason): the codec server's bound.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
# A history page or an asset: the dev server answers within seconds.
UPSTREAM_TIMEOUT = 60.0
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
CODEC_ERROR = (
    "Payloads not decoded: sign this browser in to the Sealed codec server "
    "(the one-click link `sealed demo` and `sealed dev` print, or the codec token "
    "at this address), then reload this page."
)


def include_credentials(settings: bytes, codec_url: str) -> bytes:
    """The UI server's settings answer, telling the browser to send credentials
    (the codec server's cookie) to its codec endpoint, and where to sign in when
    decoding fails. Unchanged if it is not the JSON object expected."""
    try:
        doc = json.loads(settings)
    except ValueError:
        return settings
    codec = doc.get("Codec") if isinstance(doc, dict) else None
    if not isinstance(codec, dict) or not codec.get("Endpoint"):
        return settings
    codec["IncludeCredentials"] = True
    codec["DefaultErrorMessage"] = codec.get("DefaultErrorMessage") or CODEC_ERROR
    codec["DefaultErrorLink"] = codec.get("DefaultErrorLink") or codec_url.rstrip("/") + "/login"
    return json.dumps(doc).encode()


def _without_codec_session(cookies: str) -> str:
    """A Cookie header less the codec server's session: cookies ignore ports, so
    the browser sends it here too, and the dev server's UI has no use for it."""
    # The name as the codec server's parser reads it, blanks around it ignored.
    kept = [c for c in cookies.split(";") if c.partition("=")[0].strip() != COOKIE]
    return ";".join(kept).strip()


class UIGateway(ThreadedService):
    name = "web ui gateway"

    def __init__(
        self,
        upstream: str,
        codec_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout: float = REQUEST_TIMEOUT,
        upstream_timeout: float = UPSTREAM_TIMEOUT,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"the upstream Web UI must be http://host:port, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port)
        self.codec_url = codec_url
        self.host = host
        self.upstream_timeout = upstream_timeout
        super().__init__(host, port, timeout=timeout)


class _Handler(ServiceHandler):
    server_version = "sealed-ui-gateway/1"

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_PATCH(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def do_OPTIONS(self) -> None:
        self._forward()

    def _forward(self) -> None:
        gateway: UIGateway = self.server.service
        if not self.path.startswith("/"):
            # `@host/...` would make the redirect below lead elsewhere; an absolute
            # URL asks for a proxy, which this is not.
            self._plain(HTTPStatus.BAD_REQUEST, None, "the request target must be a path")
            return
        if self._elsewhere(gateway):
            if self.command in ("GET", "HEAD"):
                port = self.server.server_address[1]
                location = f"http://{gateway.host}:{port}{self.path}"
                self._plain(HTTPStatus.PERMANENT_REDIRECT, location)
            else:
                self._plain(
                    HTTPStatus.MISDIRECTED_REQUEST,
                    None,
                    f"this Web UI answers as {gateway.host} only",
                )
            return
        try:
            body = self._body()
        except HTTPError as exc:
            self._plain(exc.status, None, str(exc))
            return
        settings = self.command == "GET" and urlsplit(self.path).path == SETTINGS_PATH
        upstream = http.client.HTTPConnection(*gateway.upstream, timeout=gateway.upstream_timeout)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() in _HOP_BY_HOP:
                    continue
                if settings and name.lower() == "accept-encoding":
                    continue  # read as plain JSON, to be changed
                if name.lower() == "cookie":
                    value = _without_codec_session(value)
                    if not value:
                        continue
                upstream.putheader(name, value)
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            self._relay(response, settings, gateway)
        except (OSError, http.client.HTTPException) as exc:
            if not self._headers_sent:
                self._plain(HTTPStatus.BAD_GATEWAY, None, f"the Temporal Web UI: {exc}")
        finally:
            upstream.close()

    _headers_sent = False

    def _elsewhere(self, gateway: UIGateway) -> bool:
        """Asked for under another host name than the one the cookie is for."""
        given = self.headers.get("Host")
        return given is not None and given.rsplit(":", 1)[0].lower() != gateway.host

    def _body(self) -> bytes:
        if "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            return self.read_body(MAX_REQUEST_BYTES)
        return b""

    def _relay(
        self, response: http.client.HTTPResponse, settings: bool, gateway: UIGateway
    ) -> None:
        headers = [
            (name, value)
            for name, value in response.getheaders()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
        ]
        bodiless = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        data: bytes | None = None
        if settings and response.status == HTTPStatus.OK:
            data = include_credentials(response.read(), gateway.codec_url)
        length = response.getheader("Content-Length") if data is None else str(len(data))
        self.send_response_only(response.status, response.reason)
        for name, value in headers:
            self.send_header(name, value)
        if length is not None and not (bodiless and self.command != "HEAD"):
            self.send_header("Content-Length", length)
        self.end_headers()
        self._headers_sent = True
        if bodiless:
            return
        if data is not None:
            self.wfile.write(data)
        else:
            # Without a length (a chunked answer), the end of this one-request
            # connection ends the body.
            shutil.copyfileobj(response, self.wfile)

    def _plain(self, status: HTTPStatus, location: str | None, text: str = "") -> None:
        data = text.encode()
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


UIGateway.handler = _Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8233)
    parser.add_argument("--upstream", required=True, help="the dev server's own Web UI")
    parser.add_argument("--codec", required=True, help="the codec server's URL")
    args = parser.parse_args(argv)
    gateway = UIGateway(args.upstream, args.codec, args.host, args.port)
    serve_until_signal(gateway, "web ui gateway listening on {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
