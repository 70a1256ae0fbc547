"""The provider interface. A provider turns one request (the original
instructions, the conversation so far, the tools on offer) into a reply."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from sealed.identity.backend import SecretValue
from sealed.models import ModelReply, ModelRequest


class ModelConfigError(Exception):
    """The mission's model section is wrong: retrying cannot help."""


class ModelTransientError(Exception):
    """Rate limits, timeouts, 5xx: the activity retries these."""


class ModelProvider(Protocol):
    async def complete(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue]
    ) -> ModelReply:
        """`credentials` holds the provider key (if the mission names one),
        issued for this turn only and revoked when it returns."""
        ...


_FACTORIES: dict[str, Callable[[], ModelProvider]] = {}


def register_provider(name: str, factory: Callable[[], ModelProvider]) -> None:
    _FACTORIES[name] = factory


def get_provider(name: str) -> ModelProvider:
    # Imported for their registration side effect; later providers join here.
    from sealed.llm import scripted  # noqa: F401

    try:
        return _FACTORIES[name]()
    except KeyError:
        known = ", ".join(sorted(_FACTORIES))
        raise ModelConfigError(f"unknown model provider '{name}' (known: {known})") from None
