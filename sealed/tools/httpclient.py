"""One place that builds the tools' HTTP clients. The TLS context is built once
per process: httpx would otherwise load the CA bundle on every client, ~20 ms
per tool call (measured by `make bench`)."""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_tls(), timeout=10.0, **options)
