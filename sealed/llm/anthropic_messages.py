"""`provider: anthropic`: the Messages API with tool use, through the official
SDK (`parameters.base_url` for a gateway or a compatible server). Streamed
unless `parameters.stream` is false."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel

from sealed.identity.backend import SecretValue
from sealed.llm.base import (
    ModelConfigError,
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
    Streamed,
    TextSink,
    load_sdk,
    provider_key,
    register_provider,
)
from sealed.llm.parameters import AnthropicParameters
from sealed.llm.wire import (
    ToolNames,
    arguments,
    http_failure,
    merged,
    parsed,
    pinned_headers,
    tool_call,
    wire_name,
)
from sealed.models import Message, ModelReply, ModelRequest, TokenUsage

PROVIDER = "anthropic"


# --- the reply, as much of it as the runtime reads -----------------------------


class _Usage(BaseModel):
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Block(BaseModel):
    type: str
    text: str = ""
    name: str = ""
    input: dict[str, Any] | None = None


class _Delta(BaseModel):
    type: str | None = None
    text: str = ""
    partial_json: str = ""
    stop_reason: str | None = None


class _Started(BaseModel):
    usage: _Usage = _Usage()


class _Event(BaseModel):
    type: str
    index: int = 0
    message: _Started | None = None
    content_block: _Block | None = None
    delta: _Delta | None = None
    usage: _Usage | None = None


class _Message(BaseModel):
    content: list[_Block]
    stop_reason: str | None = None
    usage: _Usage | None = None


def _usage(input_tokens: int | None, output_tokens: int | None) -> TokenUsage | None:
    if input_tokens is None and output_tokens is None:
        return None
    return TokenUsage(input_tokens=input_tokens or 0, output_tokens=output_tokens or 0)


def _cut_short(stop_reason: str | None, calls: int) -> None:
    if stop_reason == "max_tokens" and calls:
        raise ModelRejected(
            "the reply reached max_tokens in the middle of a tool call: raise parameters.max_tokens"
        )


# --- the request ------------------------------------------------------------------


def _text(text: str) -> list[dict[str, Any]]:
    # The API refuses empty text blocks.
    return [{"type": "text", "text": text}] if text else []


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        result = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.content,
            "is_error": message.is_error,
        }
        return {"role": "user", "content": [result]}
    if message.role != "assistant":
        # The API takes a system prompt only first: a later one (the runtime's
        # word to the model) is the user's.
        return {"role": "user", "content": _text(message.content)}
    uses = [
        {"type": "tool_use", "id": c.id, "name": wire_name(c.name), "input": c.arguments}
        for c in message.tool_calls
    ]
    return {"role": "assistant", "content": [*_text(message.content), *uses]}


def request_body(request: ModelRequest, params: AnthropicParameters) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": _text(request.goal)},
        *(_message(m) for m in request.conversation),
    ]
    body: dict[str, Any] = {
        "model": request.model.name,
        "max_tokens": params.max_tokens,
        "system": request.system_prompt,
        "messages": [m for m in merged(messages, "content") if m["content"]],
    }
    if request.tools:
        body["tools"] = [
            {"name": wire_name(t.name), "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    if params.stream:
        body["stream"] = True
    return body


# --- the turn ------------------------------------------------------------------------


class _Assembly:
    """A streamed message, put together from its events."""

    def __init__(self, sink: TextSink) -> None:
        self._sink = sink
        self.text: list[str] = []
        self.uses: dict[int, tuple[str, list[str]]] = {}
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.stop_reason: str | None = None

    def add(self, event: _Event) -> None:
        if event.type == "message_start" and event.message is not None:
            self.input_tokens = event.message.usage.input_tokens
            self.output_tokens = event.message.usage.output_tokens
        elif event.type == "content_block_start":
            block = event.content_block
            if block is None:
                raise ModelMalformedReply("a content block started without saying what it is")
            if block.type == "tool_use":
                self.uses[event.index] = (block.name, [])
            elif block.type == "text" and block.text:
                self._said(block.text)
        elif event.type == "content_block_delta" and event.delta is not None:
            if event.delta.type == "text_delta":
                self._said(event.delta.text)
            elif event.delta.type == "input_json_delta":
                if event.index not in self.uses:
                    raise ModelMalformedReply("tool input for a block that is not a tool use")
                self.uses[event.index][1].append(event.delta.partial_json)
        elif event.type == "message_delta":
            if event.delta is not None:
                self.stop_reason = event.delta.stop_reason or self.stop_reason
            if event.usage is not None:
                # Cumulative counts: the last one is the message's.
                self.input_tokens = event.usage.input_tokens or self.input_tokens
                self.output_tokens = event.usage.output_tokens or self.output_tokens

    def _said(self, text: str) -> None:
        if text:
            self.text.append(text)
            self._sink(text)

    def reply(self, turn: int, names: ToolNames) -> ModelReply:
        _cut_short(self.stop_reason, len(self.uses))
        calls = [
            tool_call(turn, i, names, name, arguments("".join(parts), name))
            for i, (_, (name, parts)) in enumerate(sorted(self.uses.items()))
        ]
        usage = _usage(self.input_tokens, self.output_tokens)
        return ModelReply(content="".join(self.text), tool_calls=calls, usage=usage)


def _completed(message: _Message, turn: int, names: ToolNames) -> ModelReply:
    uses = [b for b in message.content if b.type == "tool_use"]
    _cut_short(message.stop_reason, len(uses))
    if any(b.input is None or not b.name for b in uses):
        raise ModelMalformedReply("a tool use without its name or input")
    calls = [tool_call(turn, i, names, b.name, b.input or {}) for i, b in enumerate(uses)]
    usage = message.usage or _Usage()
    return ModelReply(
        content="".join(b.text for b in message.content if b.type == "text"),
        tool_calls=calls,
        usage=_usage(usage.input_tokens, usage.output_tokens),
    )


class AnthropicMessages(Streamed):
    async def stream(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue], sink: TextSink
    ) -> ModelReply:
        await load_sdk("anthropic")
        import anthropic
        import httpx2  # the SDK's transport, loaded with it

        params = AnthropicParameters.model_validate(request.model.parameters)
        key = provider_key(request, credentials)
        if key is None:
            raise ModelConfigError("the anthropic provider needs 'api_key_secret'")
        names = ToolNames(request.tools)
        # An explicit key: the SDK reads no credential from the environment
        # (ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, its profiles and federation).
        client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=params.url(),
            timeout=params.timeout,
            # Temporal's retry policy owns retrying: one request per attempt.
            max_retries=0,
        )
        # ANTHROPIC_CUSTOM_HEADERS could still set one: the client's own headers
        # say which (not the request's, which the SDK logs).
        pinned = pinned_headers(client.auth_headers, anthropic.Omit())
        client = client.with_options(default_headers=cast("dict[str, str]", pinned))
        try:
            body = request_body(request, params)
            response: Any = await client.messages.create(**body)
            if not params.stream:
                return _completed(parsed(_Message, response, "message"), request.turn, names)
            assembly = _Assembly(sink)
            async with response:
                async for event in response:
                    assembly.add(parsed(_Event, event, "stream event"))
            return assembly.reply(request.turn, names)
        except anthropic.APIResponseValidationError:
            raise ModelMalformedReply("malformed message from the server") from None
        except anthropic.APIStatusError as exc:
            if exc.status_code == 200:  # an error event in the middle of the stream
                raise ModelTransientError(f"the stream failed: {exc.message}") from None
            raise http_failure(
                exc.status_code, exc.message, exc.response.headers.get("retry-after")
            ) from None
        except anthropic.APIConnectionError as exc:  # timeouts too
            raise ModelTransientError(f"{type(exc).__name__}: {exc.message}") from None
        except httpx2.TransportError as exc:  # a stream that breaks or stalls half-way
            raise ModelTransientError(f"the stream broke off: {type(exc).__name__}") from None
        except ValueError:  # a body or an event that is not JSON
            raise ModelMalformedReply("the server's reply is not JSON") from None
        finally:
            await client.close()


register_provider(PROVIDER, AnthropicMessages)
