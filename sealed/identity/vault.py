"""OpenBao / HashiCorp Vault over hvac.

Every credential is minted per tool call under the profile's token role, with
exactly that (profile, tool)'s policy, the mission and call in its metadata and
a TTL no longer than the call may run. So the backend itself refuses a secret
the profile does not grant the tool, and revoking a profile (deleting its role,
revoking its lease prefix) kills every credential of every mission under it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import requests

from sealed.identity.backend import (
    Credential,
    CredentialRequest,
    Lease,
    SecretUnavailable,
    SecretValue,
)
from sealed.identity.workload import spiffe_id
from sealed.profiles import token_role, tool_policy

KV_MOUNT = "secret"
SECRETS_PREFIX = "sealed/secrets"
PROFILES_PREFIX = "sealed/profiles"
REVOCATIONS_PREFIX = "sealed/revocations"
WORKER_ROLE = "sealed-worker"

# The worker may mint per-call tokens under profile roles and end them, and read
# profiles and revocations: it cannot read a single secret value itself.
WORKER_POLICY = f"""
path "auth/token/create/sealed-p-*" {{ capabilities = ["update"] }}
path "auth/token/revoke-accessor" {{ capabilities = ["update"] }}
path "auth/token/renew-accessor" {{ capabilities = ["update"] }}
path "{KV_MOUNT}/data/{PROFILES_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/{REVOCATIONS_PREFIX}/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/sealed/redaction/*" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/sealed/codec/keys" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/sealed/prompts/*" {{ capabilities = ["create", "read"] }}
"""

T = TypeVar("T")


def secret_path(name: str) -> str:
    return f"{SECRETS_PREFIX}/{name}"


def profile_path(name: str) -> str:
    return f"{PROFILES_PREFIX}/{name}"


def revocation_path(kind: str, name: str) -> str:
    return f"{REVOCATIONS_PREFIX}/{kind}/{name}"


def unavailable(what: str, exc: Exception) -> SecretUnavailable:
    """A backend failure as the runtime reports it: what failed and why, never a value."""
    if isinstance(exc, requests.RequestException):
        why = "backend unreachable"
    elif isinstance(exc, hvac.exceptions.Forbidden):
        why = "permission denied by the backend"
    elif isinstance(exc, hvac.exceptions.InvalidPath):
        why = "does not exist"
    else:
        why = f"backend refused ({type(exc).__name__})"
    return SecretUnavailable(f"{what}: {why}")


def read_kv_versioned(
    client: hvac.Client, path: str, mount: str = KV_MOUNT
) -> tuple[dict[str, Any], int] | None:
    """The current data and its version (for check-and-set), or None."""
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=mount, raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        return None
    data: dict[str, Any] = response["data"]["data"]
    return data, int(response["data"]["metadata"]["version"])


def read_kv(client: hvac.Client, path: str) -> dict[str, Any] | None:
    found = read_kv_versioned(client, path)
    return None if found is None else found[0]


class VaultWorker:
    """The worker's own identity: an AppRole login, renewed by logging in again
    when its token is refused. Never the root token."""

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


class VaultBackend:
    """`vault-kv` (a KV v2 value, read with the call's own token),
    `vault-token` (the call's token itself, for tools that talk to Vault) and
    `vault-identity` (the mission's signed identity token, a JWT whose
    `spiffe_id` names the profile and the mission; `ref` is the OIDC role)."""

    name = "vault"
    kinds = ("vault-kv", "vault-token", "vault-identity")

    def __init__(self, worker: VaultWorker) -> None:
        self._worker = worker

    def _mint(self, request: CredentialRequest) -> tuple[str, str, int]:
        def create(client: hvac.Client) -> dict[str, Any]:
            response: dict[str, Any] = client.auth.token.create(
                role_name=token_role(request.profile),
                policies=[tool_policy(request.profile, request.tool)],
                ttl=f"{int(request.ttl.total_seconds())}s",
                meta={
                    "mission_id": request.mission_id,
                    "profile": request.profile,
                    "tool": request.tool,
                    "call_id": request.call_id,
                    "secret": request.secret,
                },
                display_name=f"{request.tool}-{request.call_id}"[:60],
                entity_alias=spiffe_id(request.profile, request.mission_id)
                if request.spec.backend == "vault-identity"
                else None,
            )
            return response

        try:
            auth = self._worker.call(f"credential '{request.secret}'", create)["auth"]
        except SecretUnavailable as exc:
            if isinstance(exc.__cause__, hvac.exceptions.InvalidRequest):
                raise SecretUnavailable(
                    f"credential '{request.secret}': profile '{request.profile}' is revoked "
                    "or not registered"
                ) from exc
            raise
        return auth["client_token"], auth["accessor"], auth["lease_duration"]

    def _issue(self, request: CredentialRequest) -> Credential:
        token, accessor, ttl = self._mint(request)
        lease = Lease(
            backend=request.spec.backend,
            secret=request.secret,
            lease_id=accessor,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
            renewable=True,
        )
        if request.spec.backend == "vault-token":
            return Credential(SecretValue(request.secret, token), lease)
        call = self._worker.as_token(token)
        if request.spec.backend == "vault-identity":
            try:
                jwt = call.adapter.get(f"/v1/identity/oidc/token/{request.spec.ref}")["data"][
                    "token"
                ]
            except (hvac.exceptions.VaultError, requests.RequestException) as exc:
                self._revoke(lease)
                raise unavailable(f"identity '{request.secret}'", exc) from exc
            return Credential(SecretValue(request.secret, str(jwt)), lease)
        try:
            data = read_kv(call, secret_path(request.spec.ref))
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            self._revoke(lease)
            raise unavailable(f"secret '{request.secret}'", exc) from exc
        if data is None:
            self._revoke(lease)
            raise SecretUnavailable(f"secret '{request.secret}': does not exist")
        key = str(request.spec.options.get("key", "value"))
        return Credential(SecretValue(request.secret, str(data[key])), lease)

    def _revoke(self, lease: Lease) -> None:
        self._worker.call(
            f"revoke '{lease.secret}'",
            lambda c: c.auth.token.revoke_accessor(lease.lease_id),
        )

    async def issue(self, request: CredentialRequest) -> Credential:
        return await asyncio.to_thread(self._issue, request)

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        seconds = int(ttl.total_seconds())
        response = await self._worker.acall(
            f"renew '{lease.secret}'",
            lambda c: c.adapter.post(
                "/v1/auth/token/renew-accessor",
                json={"accessor": lease.lease_id, "increment": f"{seconds}s"},
            ),
        )
        granted = int(response["auth"]["lease_duration"])
        return lease.model_copy(
            update={"expires_at": datetime.now(UTC) + timedelta(seconds=granted)}
        )

    async def revoke(self, lease: Lease) -> None:
        await asyncio.to_thread(self._revoke, lease)
