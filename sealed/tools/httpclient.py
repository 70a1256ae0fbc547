"""One place that builds the tools' HTTP clients. The TLS context is built once
per process: httpx would otherwise load the CA bundle on every client, ~20 ms
per tool call (measured by `make bench`)."""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx

from sealed.tools.netguard import GuardedTransport


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_tls(), timeout=10.0, **options)


def guarded_client(allowed_hosts: frozenset[str]) -> httpx.AsyncClient:
    """A client for URLs the model chose: it reaches public addresses, and the
    internal hosts in `allowed_hosts`, only (netguard), on every request. It
    follows no redirect (the caller follows them, each a request of its own), keeps
    no connection (one verified for a host name must not carry a request for
    another name on the same address), and takes no proxy from the environment
    (a proxy would resolve and connect past the guard)."""
    pool = httpx.AsyncHTTPTransport(
        verify=_tls(), trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(pool, allowed_hosts), timeout=10.0, trust_env=False
    )
