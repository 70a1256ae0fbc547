"""A TLS front for the embedded Temporal server, as Temporal Cloud or a TLS
cluster is to a client: a real handshake with a certificate made here (the
client's own certificate required, for mTLS), the gRPC stream passed on in
clear to the dev server, and the request headers each connection sent (its
API key among them) read back from the HTTP/2 frames."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import hpack
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADERS, _CONTINUATION = 0x1, 0x9
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def issue(folder: Path, name: str, issuer: tuple[Pem, str] | None = None, *, ca: bool) -> Pem:
    """A certificate for `name` (valid for localhost and 127.0.0.1), signed by
    `issuer` (its files and name) or by itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    if issuer is None:
        signer, issuer_name = key, _name(name)
    else:
        signer_key = serialization.load_pem_private_key(issuer[0].key.read_bytes(), None)
        assert isinstance(signer_key, ec.EllipticCurvePrivateKey)
        signer, issuer_name = signer_key, _name(issuer[1])
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    cert = builder.sign(signer, hashes.SHA256())
    pem = Pem(folder / f"{name}.crt", folder / f"{name}.key")
    pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem


@dataclass
class TlsFront:
    address: str
    headers: list[dict[str, str]] = field(default_factory=list)


class _HeaderReader:
    """The header blocks of one client's HTTP/2 stream, decoded in order (HPACK
    is stateful across a connection's blocks)."""

    def __init__(self, sink: list[dict[str, str]]) -> None:
        self._sink = sink
        self._buffer = b""
        self._preface_seen = False
        self._block = b""
        self._decoder = hpack.Decoder()

    def feed(self, data: bytes) -> None:
        self._buffer += data
        if not self._preface_seen:
            if len(self._buffer) < len(_PREFACE):
                return
            self._buffer = self._buffer[len(_PREFACE) :]
            self._preface_seen = True
        while len(self._buffer) >= 9:
            length = int.from_bytes(self._buffer[:3], "big")
            if len(self._buffer) < 9 + length:
                return
            kind, flags = self._buffer[3], self._buffer[4]
            payload = self._buffer[9 : 9 + length]
            self._buffer = self._buffer[9 + length :]
            if kind == _HEADERS:
                pad = payload[0] if flags & _PADDED else 0
                start = (1 if flags & _PADDED else 0) + (5 if flags & _PRIORITY else 0)
                self._block = payload[start : len(payload) - pad]
            elif kind == _CONTINUATION:
                self._block += payload
            else:
                continue
            if flags & _END_HEADERS:
                decoded = self._decoder.decode(self._block)
                self._sink.append({str(k): str(v) for k, v in decoded})
                self._block = b""


@contextlib.asynccontextmanager
async def tls_front(
    upstream: str, server: Pem, client_ca: Path | None = None
) -> AsyncIterator[TlsFront]:
    """Listens on a free port of 127.0.0.1 with `server`'s certificate; with
    `client_ca`, a client must present a certificate it signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.cert, server.key)
    context.set_alpn_protocols(["h2"])
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    host, port = upstream.rsplit(":", 1)
    front = TlsFront(address="")
    tasks: set[asyncio.Task[None]] = set()

    async def pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tap: _HeaderReader | None
    ) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await reader.read(65536):
                if tap is not None:
                    tap.feed(data)
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        both = asyncio.gather(
            pipe(reader, up_writer, _HeaderReader(front.headers)),
            pipe(up_reader, writer, None),
        )
        task = asyncio.ensure_future(both)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    front.address = f"127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    try:
        yield front
    finally:
        listener.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
