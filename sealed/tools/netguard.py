"""What `http.fetch` may connect to: public addresses only, unless the profile
names the host (its `hosts` grant). The model chooses the URL, so without this a
prompt injection reads OpenBao, the Web UI or the codec server on loopback, or
the cloud metadata service at 169.254.169.254.

The check sits in the transport, so it runs on every request the client sends,
every redirect hop included, after DNS resolution. The request then goes to the
very address that was checked (the URL's host swapped for it), so a name that
resolves again between check and connect (DNS rebinding) cannot move inward."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PORTS = {"http": 80, "https": 443}

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
# Carrier-grade NAT (RFC 6598); some clouds serve their metadata from it (100.100.100.200).
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(Exception):
    """The URL leads somewhere this fetch may not go; the message names the rule."""


def refusal(ip: IPAddress) -> str | None:
    """Which kind of internal address `ip` is ("a loopback address"), or None when public."""
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := _embedded_ipv4(ip)) is not None:
        ip = v4
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip in _SHARED:
        return "a shared (CGNAT) address"
    if any(ip in net for net in _PRIVATE) or (
        isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    ):
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        # This network, documentation, benchmarking, protocol assignments...
        return "a special-purpose address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through the host's stack or a
    gateway: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), 6to4 and NAT64."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    compatible = ip.packed[:12] == bytes(12) and int(ip) > 1  # not :: or ::1
    if compatible or ip in _NAT64:
        return ipaddress.IPv4Address(ip.packed[12:])
    return None


def allows(allowed_hosts: frozenset[str], host: str, port: int) -> bool:
    """Whether the profile names this host, on any port or on this one. Entries
    are in the form profiles.ToolGrant.hosts normalises them to."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        name = host
    else:
        name = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    return name in allowed_hosts or f"{name}:{port}" in allowed_hosts


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal is its own answer), in
    the resolver's order, without duplicates."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        # The same resolver the connection would use, so names it accepts as
        # addresses (2130706433, 0x7f.1) come back as the address they mean.
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise httpx.ConnectError(f"{host} resolves to no address")
    return addresses


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends each request to an address of its host that passed the guard."""

    def __init__(self, inner: httpx.AsyncBaseTransport, allowed_hosts: frozenset[str]) -> None:
        self._inner = inner
        self._allowed = allowed_hosts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in PORTS:
            raise Refused(f"a '{url.scheme}' URL is not http(s)")
        host = url.raw_host.decode("ascii")
        if not host:
            raise Refused("the URL has no host")
        port = url.port or PORTS[url.scheme]
        try:
            # Resolving is part of connecting: it gets the connect timeout.
            async with asyncio.timeout(request.extensions.get("timeout", {}).get("connect")):
                addresses = await resolve(host, port)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"resolving {host} timed out") from None
        if not allows(self._allowed, host, port):
            # Any one internal answer refuses: the connection could use any of them.
            for ip in addresses:
                if (rule := refusal(ip)) is not None:
                    raise Refused(f"{host} resolves to {rule}")
        # Like a connect by name, try each address in turn; but only those checked.
        *others, last = addresses
        for ip in others:
            try:
                return await self._inner.handle_async_request(_pinned(request, ip))
            except httpx.ConnectError:
                continue
        return await self._inner.handle_async_request(_pinned(request, last))

    async def aclose(self) -> None:
        await self._inner.aclose()


def _pinned(request: httpx.Request, ip: IPAddress) -> httpx.Request:
    """The request sent to `ip` but still for its host: the Host header stays, and
    TLS sends SNI for the host name and verifies the certificate against it, not
    against the address (httpcore's `sni_hostname` extension)."""
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(ip)),
        headers=request.headers,
        stream=request.stream,
        extensions={**request.extensions, "sni_hostname": request.url.raw_host.decode("ascii")},
    )
