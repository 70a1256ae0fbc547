"""Per-call credentials from OpenBao / HashiCorp Vault over hvac.

Every credential is minted per tool call under the profile's token role, with
exactly that (profile, tool)'s policy, the mission and call in its metadata and
a TTL no longer than the call may run. So the backend itself refuses a secret
the profile does not grant the tool, and revoking a profile (deleting its role,
revoking its lease prefix) kills every credential of every mission under it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac
import hvac.exceptions
import requests

from sealed.identity.backend import (
    Credential,
    CredentialRequest,
    Lease,
    NotRenewable,
    SecretUnavailable,
    SecretValue,
)
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.kv import read_kv, secret_path, unavailable
from sealed.identity.profiles import token_role, tool_policy
from sealed.identity.workload import spiffe_id


class VaultBackend:
    """`vault-kv` (a KV v2 value, read with the call's own token),
    `vault-token` (the call's token itself, for tools that talk to Vault) and
    `vault-identity` (the mission's signed identity token, a JWT whose
    `spiffe_id` names the profile and the mission; `ref` is the OIDC role)."""

    name = "vault"
    kinds = ("vault-kv", "vault-token", "vault-identity")

    def __init__(self, worker: AppRoleClient) -> None:
        self._worker = worker

    def _mint(self, request: CredentialRequest) -> tuple[str, str, int]:
        def create(client: hvac.Client) -> dict[str, Any]:
            ttl = f"{int(request.ttl.total_seconds())}s"
            # Exactly the tool's policy (not OpenBao's `default`, which lets a
            # token renew itself), for exactly the call: a copy that outlives a
            # killed worker's revoke dies at its own TTL, never later.
            response: dict[str, Any] = client.auth.token.create(
                role_name=token_role(request.profile),
                policies=[tool_policy(request.profile, request.tool)],
                no_default_policy=True,
                renewable=False,
                ttl=ttl,
                explicit_max_ttl=ttl,
                meta={
                    "mission_id": request.mission_id,
                    "profile": request.profile,
                    "tool": request.tool,
                    "call_id": request.call_id,
                    "secret": request.secret,
                    **({"approval_id": request.approval_id} if request.approval_id else {}),
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
            renewable=False,
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
        raise NotRenewable(f"{lease.backend} credential '{lease.secret}' ends with its call")

    async def revoke(self, lease: Lease) -> None:
        await asyncio.to_thread(self._revoke, lease)
