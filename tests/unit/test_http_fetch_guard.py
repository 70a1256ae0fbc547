"""`http.fetch` reaches public addresses only: every internal range is refused
after DNS resolution and after every redirect, the address checked is the one
connected to, and only a host the profile names explicitly gets through."""

from __future__ import annotations

import datetime
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from sealed.identity.profiles import Profile, ToolGrant
from sealed.tools import REGISTRY, ToolContext, ToolError, load_tool_modules
from sealed.tools.http import FetchArgs, FetchResult, fetch

load_tool_modules(["sealed.tools.http"])

PUBLIC = "93.184.216.34"


# --- a local site standing in for an internal service ------------------------------


@dataclass
class Site:
    port: int
    hits: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        site.hits.append(self.path)
        url = urlsplit(self.path)
        if url.path == "/redirect":
            self._reply(302, location=parse_qs(url.query)["to"][0])
        elif url.path == "/loop":
            self._reply(302, location="/loop")
        else:
            self._reply(200, body=b"internal page")

    def _reply(self, status: int, *, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site, tls: ssl.SSLContext | None) -> None:
        self.site, self.tls = site, tls
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address


@contextmanager
def _serve(tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    site = Site(port=0)
    server = _Server(site, tls)
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def site() -> Iterator[Site]:
    with _serve() as site:
        yield site


# --- seams: the resolver and the socket connect ---------------------------------------


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Names this test resolves itself: each lookup pops the next answer (the
    last one repeats), so a test can rebind a name between two lookups."""
    answers: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port or 0), 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0)))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host a socket is opened to; only the local test sites are reachable."""
    seen: list[str] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(self: httpcore.AnyIOBackend, host: str, port: int, **kw: Any) -> Any:
        seen.append(host)
        if host != "127.0.0.1":
            raise httpcore.ConnectError(f"no network to {host} in the unit tests")
        return await real(self, host, port, **kw)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return seen


async def _fetch(url: str, allowed: frozenset[str] = frozenset()) -> object:
    ctx = ToolContext(
        mission_id="m-1", call_id="call-1", idempotency_key="m-1/call-1", allowed_hosts=allowed
    )
    tool = REGISTRY["http.fetch"]
    return await tool.fn(ctx, tool.args_model.model_validate({"url": url}))


# --- refused before connecting ----------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_host_is_refused(site: Site, host: str) -> None:
    with pytest.raises(ToolError, match=r"refused: .* resolves to a loopback address"):
        await _fetch(f"http://{host}:{site.port}/")
    assert site.hits == []


async def test_the_metadata_address_is_refused_without_a_connection(connects: list[str]) -> None:
    with pytest.raises(
        ToolError, match=re.escape("169.254.169.254 resolves to a link-local address")
    ):
        await _fetch("http://169.254.169.254/latest/meta-data/")
    assert connects == []


@pytest.mark.parametrize(
    ("addresses", "rule"),
    [
        (["127.0.0.1"], "a loopback address"),
        (["10.1.2.3"], "a private address"),
        (["172.16.5.4"], "a private address"),
        (["192.168.1.1"], "a private address"),
        (["100.64.0.1"], "a shared (CGNAT) address"),
        (["169.254.169.254"], "a link-local address"),
        (["0.0.0.0"], "the unspecified address"),
        (["224.0.0.251"], "a multicast address"),
        (["240.0.0.1"], "a reserved address"),
        (["::1"], "a loopback address"),
        (["fe80::1"], "a link-local address"),
        (["fd00::1"], "a private address"),
        (["::ffff:127.0.0.1"], "a loopback address"),
        (["::ffff:169.254.169.254"], "a link-local address"),
        (["::10.0.0.1"], "a private address"),
        (["2002:a00:1::"], "a private address"),
        (["64:ff9b::a9fe:a9fe"], "a link-local address"),
        # One internal answer among public ones is enough: the connection may use any.
        ([PUBLIC, "10.0.0.1"], "a private address"),
    ],
)
async def test_a_public_name_that_resolves_inward_is_refused(
    dns: dict[str, list[list[str]]], connects: list[str], addresses: list[str], rule: str
) -> None:
    dns["intranet.example.com"] = [addresses]
    with pytest.raises(ToolError, match=re.escape(f"intranet.example.com resolves to {rule}")):
        await _fetch("http://intranet.example.com/")
    assert connects == []


@pytest.mark.parametrize(
    "host",
    # Spellings of 127.0.0.1 that a URL parser or the C resolver accepts.
    ["[::ffff:127.0.0.1]", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::127.0.0.1]"],
)
async def test_other_spellings_of_loopback_are_refused(site: Site, host: str) -> None:
    with pytest.raises(ToolError, match="resolves to a loopback address"):
        await _fetch(f"http://{host}:{site.port}/")
    assert site.hits == []


async def test_the_checked_address_is_the_one_connected_to(
    dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    """DNS rebinding: the name turns internal right after the check; the
    connection still goes to the public address that was checked."""
    dns["rebind.example.com"] = [[PUBLIC], ["127.0.0.1"]]
    with pytest.raises(ToolError, match="failed: ConnectError"):
        await _fetch("http://rebind.example.com/")
    assert connects == [PUBLIC]


# --- redirects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "rule"),
    [
        ("http://localhost:{port}/secret", "localhost resolves to a loopback address"),
        ("http://[::1]:{port}/secret", "::1 resolves to a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 resolves to a link-local"),
        ("http://2130706433:{port}/secret", "2130706433 resolves to a loopback address"),
        ("file:///etc/passwd", "a redirect to a 'file' URL"),
    ],
)
async def test_a_redirect_inward_is_refused(
    site: Site, connects: list[str], target: str, rule: str
) -> None:
    to = target.format(port=site.port)
    with pytest.raises(ToolError, match=re.escape(f"refused: {rule}")):
        await _fetch(
            f"http://127.0.0.1:{site.port}/redirect?to={to}",
            allowed=frozenset({f"127.0.0.1:{site.port}"}),
        )
    assert len(site.hits) == 1
    assert set(connects) == {"127.0.0.1"}


async def test_redirects_are_followed_and_bounded(site: Site) -> None:
    allowed = frozenset({f"127.0.0.1:{site.port}"})
    result = await _fetch(f"http://127.0.0.1:{site.port}/redirect?to=/page", allowed)
    assert isinstance(result, FetchResult)
    assert (result.url, result.status, result.text) == (
        f"http://127.0.0.1:{site.port}/page",
        200,
        "internal page",
    )
    site.hits.clear()
    with pytest.raises(ToolError, match="refused: more than 5 redirects"):
        await _fetch(f"http://127.0.0.1:{site.port}/loop", allowed)
    assert len(site.hits) == 6


# --- the profile's allowance ------------------------------------------------------------


async def test_the_profile_allowance_lets_a_named_internal_host_through(site: Site) -> None:
    for allowed in (f"localhost:{site.port}", "localhost"):
        result = await _fetch(f"http://localhost:{site.port}/", frozenset({allowed}))
        assert isinstance(result, FetchResult) and result.text == "internal page"
    # The grant names a host (and maybe a port), not whatever shares its address.
    for allowed in (f"localhost:{site.port + 1}", "127.0.0.1", "example.com"):
        with pytest.raises(ToolError, match="loopback"):
            await _fetch(f"http://localhost:{site.port}/", frozenset({allowed}))
    assert site.hits == ["/", "/"]


def _tls_site_context(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `name` only, and a client
    context that trusts its issuer."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])

    def build(subject: x509.Name, public: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
        )

    ca = (
        build(ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


async def test_tls_is_verified_against_the_host_name_when_pinned(
    tmp_path: Path, dns: dict[str, list[list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server_tls, client_tls = _tls_site_context(tmp_path, "intranet.example.com")
    monkeypatch.setattr("sealed.tools.httpclient._tls", lambda: client_tls)
    dns["intranet.example.com"] = [["127.0.0.1"]]
    dns["other.example.com"] = [["127.0.0.1"]]
    allowed = frozenset({"intranet.example.com", "other.example.com"})
    with _serve(server_tls) as tls_site:
        result = await _fetch(f"https://intranet.example.com:{tls_site.port}/", allowed)
        assert isinstance(result, FetchResult) and result.text == "internal page"
        # Same address, another name: the certificate does not cover it.
        with pytest.raises(ToolError, match="CERTIFICATE_VERIFY_FAILED"):
            await _fetch(f"https://other.example.com:{tls_site.port}/", allowed)
        assert tls_site.hits == ["/"]


# --- the profile field ------------------------------------------------------------------


def test_the_hosts_grant_is_validated_and_normalised() -> None:
    grant = ToolGrant(
        hosts=["Intranet.Example.com", "wiki.internal:8443", "[0:0::1]:80", "10.0.0.5"]
    )
    assert grant.hosts == ["intranet.example.com", "wiki.internal:8443", "[::1]:80", "10.0.0.5"]
    for bad in ("*.example.com", "http://wiki.internal", "wiki.internal:0", "::1", "a b", ""):
        with pytest.raises(ValidationError, match="hosts"):
            ToolGrant(hosts=[bad])


def test_only_http_fetch_takes_a_hosts_grant() -> None:
    profile = Profile(name="p", tools={"http.fetch": ToolGrant(hosts=["wiki.internal"])})
    assert profile.tools["http.fetch"].hosts == ["wiki.internal"]
    with pytest.raises(ValidationError, match=re.escape("'tickets.read' cannot take 'hosts'")):
        Profile(name="p", tools={"tickets.read": ToolGrant(hosts=["wiki.internal"])})


# --- the profile's egress allowlist (Sealed V) ------------------------------------------


async def test_a_redirect_off_the_egress_allowlist_is_refused(site: Site) -> None:
    """The directives judged where the model pointed the tool; where the server
    points it next is held to the same allowlist, on every hop."""
    internal = frozenset({f"127.0.0.1:{site.port}", f"localhost:{site.port}"})
    url = f"http://127.0.0.1:{site.port}/redirect?to=http://localhost:{site.port}/page"
    ctx = ToolContext(
        mission_id="m",
        call_id="c",
        idempotency_key="m/c",
        allowed_hosts=internal,
        egress_hosts=frozenset({f"127.0.0.1:{site.port}"}),
    )
    with pytest.raises(ToolError, match="a redirect to localhost is off the profile's egress"):
        await fetch(ctx, FetchArgs.model_validate({"url": url}))
    assert len(site.hits) == 1
    # Without the allowlist (a profile that relaxed it) the same redirect is followed.
    relaxed = ToolContext(
        mission_id="m", call_id="c", idempotency_key="m/c", allowed_hosts=internal
    )
    result = await fetch(relaxed, FetchArgs.model_validate({"url": url}))
    assert isinstance(result, FetchResult) and result.status == 200
