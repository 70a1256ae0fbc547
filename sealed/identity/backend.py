"""The SecretBackend protocol. A secret is resolved inside the activity attempt
that uses it and handed to the tool as a SecretValue, whose repr never shows it."""

from __future__ import annotations

from typing import Protocol


class SecretUnavailable(Exception):
    """The backend cannot (or will not) answer: the tool must not run."""


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


class SecretBackend(Protocol):
    async def read(self, name: str, *, mission_id: str, profile: str) -> SecretValue: ...
