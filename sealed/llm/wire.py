"""What every real provider does the same way on the wire: tool names the
APIs accept, the ids of the calls a reply makes, their JSON arguments."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sealed.llm.base import (
    ModelConfigError,
    ModelError,
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
)
from sealed.models import ToolCall, ToolInfo

_T = TypeVar("_T", bound=BaseModel)
_Omit = TypeVar("_Omit")

# OpenAI, Anthropic and Bedrock all take function names of this alphabet.
WIRE_NAME_MAX = 64


def wire_name(name: str) -> str:
    """A tool's name as the APIs accept it (^[a-zA-Z0-9_-]{1,64}$). Sealed
    names (sealed.types.ToolName) are lower case, digits, '_' and '.', never
    '-': a '.' becomes '-', which maps back one to one. A name too long is cut
    and suffixed with a digest of the whole, so it stays deterministic."""
    wire = name.replace(".", "-")
    if len(wire) <= WIRE_NAME_MAX:
        return wire
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{wire[: WIRE_NAME_MAX - 9]}-{digest}"


class ToolNames:
    """The tools of one request, by the name the model calls them."""

    def __init__(self, tools: Iterable[ToolInfo]) -> None:
        self._by_wire = {wire_name(t.name): t.name for t in tools}

    def sealed(self, wire: str) -> str:
        """The Sealed name of a tool the model called; a name it made up maps
        back all the same, and the workflow refuses it as not on offer."""
        return self._by_wire.get(wire, wire.replace("-", "."))


def call_id(turn: int, index: int) -> str:
    """A call's id, whatever the provider called it: unique in the mission
    (its turn and place), so that idempotency keys and approval ids derived
    from it never collide, even with a server that numbers calls per reply.
    The APIs take any id back that matches between a call and its result."""
    return f"call-{turn}-{index}"


def arguments(text: str, tool: str) -> dict[str, Any]:
    """A call's arguments from the JSON text a model wrote (empty: none)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelMalformedReply(
            f"the model's arguments for '{tool}' are not valid JSON ({len(text)} characters)"
        ) from None
    if not isinstance(value, dict):
        raise ModelMalformedReply(f"the model's arguments for '{tool}' are not a JSON object")
    return value


def tool_call(turn: int, index: int, names: ToolNames, wire: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(id=call_id(turn, index), name=names.sealed(wire), arguments=args)


def merged(messages: list[dict[str, Any]], content: str) -> list[dict[str, Any]]:
    """Consecutive messages of one role as one (Anthropic and Bedrock want
    roles to alternate): their `content` block lists joined."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if out and out[-1]["role"] == message["role"]:
            out[-1] = {**out[-1], content: [*out[-1][content], *message[content]]}
        else:
            out.append(message)
    return out


# Beyond this, a provider's own wait is not honoured: the retry policy's is.
RETRY_AFTER_MAX = timedelta(seconds=60)
# A provider's error message is kept to this many characters (it is redacted
# by the activity; it may quote the whole prompt).
MESSAGE_MAX = 500


def _retry_after(value: str | None) -> timedelta | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:  # an HTTP date: the retry policy's backoff will do
        return None
    if seconds is None or seconds < 0:
        return None
    return min(timedelta(seconds=seconds), RETRY_AFTER_MAX)


def http_failure(status: int, message: str, retry_after: str | None = None) -> ModelError:
    """What an HTTP status from a model API means for the turn: 429, 408 and
    5xx pass (retried); 401, 403 and 404 say the key or the model is wrong;
    any other 4xx refuses this request, and would refuse it again."""
    text = f"HTTP {status}: {message[:MESSAGE_MAX]}"
    if status in (408, 429) or status >= 500:
        return ModelTransientError(text, _retry_after(retry_after))
    if status in (401, 403, 404):
        return ModelConfigError(text)
    return ModelRejected(text)


# Headers that carry a credential, in one SDK or another (Azure's api-key).
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key")


def pinned_headers(auth: Mapping[str, str], omit: _Omit) -> dict[str, str | _Omit]:
    """The headers that carry the key, as the client is to send them: those
    the SDK derives from the key it was given, every other credential header
    removed (`omit`). Given to the client as its own headers, they win over
    what its constructor read from the worker's environment (*_CUSTOM_HEADERS)."""
    mine = {name.lower(): value for name, value in auth.items()}
    return {name: mine.get(name, omit) for name in CREDENTIAL_HEADERS} | mine


def parsed(kind: type[_T], item: object, what: str) -> _T:
    """A part of an SDK's reply (built from the body without validation) as
    the model of it that the provider reads, or a clear error."""
    data = item.to_dict(warnings=False) if hasattr(item, "to_dict") else item
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        where = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3])
        raise ModelMalformedReply(f"malformed {what} from the server (at {where})") from None
