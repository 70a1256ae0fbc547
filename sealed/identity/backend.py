"""The credential protocol. A credential is issued inside the tool activity
attempt that uses it, for one mission and one tool call, handed to the tool as
a SecretValue (whose repr never shows it), and revoked when the call ends.
Only its Lease (names, ids, accessors: never a value) leaves the activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class SecretUnavailable(Exception):
    """The backend cannot (or will not) answer: the tool must not run."""


class NotRenewable(SecretUnavailable):
    """The credential cannot be extended: issue a new one for the next call."""


class SecretValue:
    """A secret handle. `reveal()` is the only way to the value, so that an
    accidental log line or f-string prints the name, never the secret."""

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretValue({self.name!r}, <hidden>)"

    __str__ = __repr__


class SecretSpec(BaseModel):
    """Where a named secret comes from, as a profile declares it: the backend
    (`vault-kv`, `aws-secrets-manager`, `aws-sts`, `agentcore-api-key`,
    `agentcore-oauth2`), a backend-specific reference (a KV path, a secret id,
    a role ARN, a credential provider name) and backend-specific options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    ref: str
    options: dict[str, Any] = Field(default_factory=dict)


class CredentialRequest(BaseModel):
    """One credential for one tool call of one mission."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mission_id: str
    profile: str
    tool: str
    call_id: str
    secret: str
    spec: SecretSpec
    ttl: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # The human approval this credential was issued for (Sealed IV), if any.
    approval_id: str | None = None


class Lease(BaseModel):
    """What may be recorded about an issued credential: never its value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    secret: str
    lease_id: str = Field(description="lease id, token accessor, or session name")
    expires_at: datetime | None = None
    renewable: bool = False


@dataclass(frozen=True)
class Credential:
    value: SecretValue
    lease: Lease


class CredentialBackend(Protocol):
    """A source of just-in-time credentials. `issue` raises SecretUnavailable
    when it cannot or will not answer (fail closed)."""

    name: str

    async def issue(self, request: CredentialRequest) -> Credential: ...

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease: ...

    async def revoke(self, lease: Lease) -> None: ...
