"""Agent profiles (Sealed I and III-D): the identity a mission runs under, the
tools it may use and, per tool, the secrets that tool may receive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sealed.identity.backend import SecretSpec
from sealed.models import ProfileName, ToolName
from sealed.spec_loader import load_document


class ToolGrant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    secrets: list[str] = Field(default_factory=list)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ProfileName
    tools: dict[ToolName, ToolGrant] = Field(default_factory=dict)
    secrets: dict[str, SecretSpec] = Field(
        default_factory=dict, description="where each granted secret comes from"
    )
    approvers: list[str] = Field(default_factory=list)
    exportable: bool = False

    @model_validator(mode="after")
    def _grants_are_declared(self) -> Profile:
        for tool, grant in self.tools.items():
            unknown = [s for s in grant.secrets if s not in self.secrets]
            if unknown:
                raise ValueError(f"tool '{tool}' is granted undeclared secrets: {unknown}")
        return self

    def granted(self, tool: str) -> set[str]:
        grant = self.tools.get(tool)
        return set(grant.secrets) if grant else set()


class ProfileSource(Protocol):
    async def for_call(self, profile: str, mission_id: str) -> Profile:
        """The profile a tool call runs under; raises when it or the mission is
        revoked (ProfileNotAllowed) or when that cannot be known (fail closed)."""
        ...


class ProfileNotAllowed(Exception):
    """Not registered, or revoked: the mission cannot go on (not retryable)."""


def load_profile(path: str | Path) -> Profile:
    return load_document(Profile, path, "agent profile")


# --- names at the backend ------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


def token_role(profile: str) -> str:
    """The OpenBao token role every credential of the profile is minted under:
    deleting it and revoking its prefix kills them all."""
    return f"sealed-p-{profile}"


def tool_policy(profile: str, tool: str) -> str:
    """One policy per (profile, tool): a call's token can read exactly what the
    profile grants that tool, so the backend refuses anything else too."""
    return f"sealed-p-{profile}-t-{_slug(tool)}"
