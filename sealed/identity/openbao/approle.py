"""A process's own OpenBao identity (the worker's, the codec server's): an
AppRole login, never the root token."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

import hvac
import hvac.exceptions
import requests

from sealed.identity.openbao.kv import unavailable

T = TypeVar("T")


class AppRoleClient:
    """Logs in again when its token is refused (expired), and acts as a
    call's own token for the reads that token is scoped to."""

    def __init__(self, url: str, role_id: str, secret_id: str) -> None:
        self.url = url
        self._role_id = role_id
        self._secret_id = secret_id
        # token="" so hvac never picks up VAULT_TOKEN or ~/.vault-token: the
        # worker runs on its own AppRole identity or not at all.
        self._client = hvac.Client(url=url, token="", timeout=5)
        self._lock = threading.Lock()
        self._local = threading.local()

    def _login(self) -> None:
        with self._lock:
            self._client.auth.approle.login(role_id=self._role_id, secret_id=self._secret_id)

    def call(self, what: str, fn: Callable[[hvac.Client], T]) -> T:
        try:
            if not self._client.token:
                self._login()
            try:
                return fn(self._client)
            except hvac.exceptions.Forbidden:
                self._login()  # the worker's token may have expired
                return fn(self._client)
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise unavailable(what, exc) from exc

    async def acall(self, what: str, fn: Callable[[hvac.Client], T]) -> T:
        return await asyncio.to_thread(self.call, what, fn)

    def as_token(self, token: str) -> hvac.Client:
        """A client acting as a call's own token. One per thread, its connection
        reused: a new client per call costs a TCP connection each time."""
        client: hvac.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = hvac.Client(url=self.url, token="", timeout=5)
        client.token = token
        return client
