"""The provider interface. A provider turns one request (the original
instructions, the conversation so far, the tools on offer) into a reply.

sealed.models imports sealed.llm.parameters, and so this package: the models
are imported here for type checking only."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from sealed.identity.backend import SecretValue

if TYPE_CHECKING:
    from sealed.models import ModelReply, ModelRequest

MODELS_EXTRA = "pip install 'sealed-runtime[models]'"
# Below INFO, these libraries log what no screen sees first: a request's
# headers (an AWS session token), a response's body (a provider's error that
# quotes the key it was sent).
SDK_LOGGERS = ("openai", "anthropic", "botocore", "urllib3", "httpx2", "httpcore2")


class ModelError(Exception):
    """A provider's failure. `retryable` is what the activity tells Temporal:
    a failure that would recur on the same request is not retried."""

    retryable: ClassVar[bool] = True


class ModelConfigError(ModelError):
    """The mission's model section is wrong: retrying cannot help."""

    retryable = False


class ModelRejected(ModelError):
    """The provider refused the request itself (a 4xx other than 429: too long,
    a tool schema it cannot take): the same request would be refused again."""

    retryable = False


class ModelTransientError(ModelError):
    """Rate limits, timeouts, 5xx: the activity retries these, after
    `retry_after` when the provider said how long to wait."""

    def __init__(self, message: str, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelMalformedReply(ModelTransientError):
    """A reply that does not parse: tool arguments that are not a JSON object,
    a body missing what the API promises. Retried: a model that wrote broken
    JSON usually writes it whole when asked again, and a body cut short by a
    proxy arrives whole the next time; a server that always answers so fails
    the turn once the retry policy's attempts are spent."""


# Receives a streamed reply's text, chunk by chunk, as it arrives.
TextSink = Callable[[str], None]


class ModelProvider(Protocol):
    async def complete(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue]
    ) -> ModelReply:
        """`credentials` holds the provider key (if the mission names one),
        issued for this turn only and revoked when it returns."""
        ...


@runtime_checkable
class StreamingProvider(Protocol):
    async def stream(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue], sink: TextSink
    ) -> ModelReply:
        """As `complete`, feeding the reply's text to `sink` as it arrives; the
        reply's `content` is exactly what was fed, in order."""
        ...


class Streamed(ABC):
    """A provider whose every turn streams: `complete` is `stream` with
    nothing listening."""

    async def complete(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue]
    ) -> ModelReply:
        return await self.stream(request, credentials, lambda _: None)

    @abstractmethod
    async def stream(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue], sink: TextSink
    ) -> ModelReply: ...


async def ask(
    provider: ModelProvider,
    request: ModelRequest,
    credentials: Mapping[str, SecretValue],
    sink: TextSink,
) -> ModelReply:
    """One turn of `provider`, streamed to `sink` if the provider streams."""
    if isinstance(provider, StreamingProvider):
        return await provider.stream(request, credentials, sink)
    return await provider.complete(request, credentials)


def provider_key(request: ModelRequest, credentials: Mapping[str, SecretValue]) -> str | None:
    """The key issued for this turn, None when the mission names none (its
    parameters were checked to allow that). Never the worker's environment:
    each provider hands the SDK this value, or a placeholder that is no key."""
    name = request.model.api_key_secret
    if name is None:
        return None
    secret = credentials.get(name)
    if secret is None:
        raise ModelConfigError(f"the model key '{name}' was not issued for this turn")
    return secret.reveal()


def quiet_sdk_logs() -> None:
    """Holds the SDKs' loggers at INFO, whatever the worker's logging (or an
    SDK's own, OPENAI_LOG) says: no log line may carry a secret."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


# One import at a time: a turn that found an SDK half imported by another
# turn's thread would wait for it on the event loop, stalling every activity.
_LOADING = asyncio.Lock()


async def load_sdk(*modules: str) -> None:
    """Imports a provider's SDK on its first turn, in a thread: importing one
    takes seconds, and meanwhile the worker's event loop must go on running
    every other activity and sending their heartbeats."""
    async with _LOADING:
        for module in modules:
            if sys.modules.get(module) is not None:
                continue
            try:
                await asyncio.to_thread(importlib.import_module, module)
            except ImportError:
                raise ModelConfigError(
                    f"this model provider needs the '{module}' package: {MODELS_EXTRA}"
                ) from None
    quiet_sdk_logs()


_FACTORIES: dict[str, Callable[[], ModelProvider]] = {}


def register_provider(name: str, factory: Callable[[], ModelProvider]) -> None:
    _FACTORIES[name] = factory


def get_provider(name: str) -> ModelProvider:
    # Imported for their registration side effect. The real providers import
    # their SDK only when asked for a turn, so the runtime runs without them.
    from sealed.llm import anthropic_messages, bedrock_converse, openai_chat, scripted  # noqa: F401

    try:
        return _FACTORIES[name]()
    except KeyError:
        known = ", ".join(sorted(_FACTORIES))
        raise ModelConfigError(f"unknown model provider '{name}' (known: {known})") from None
