"""`provider: openai`: the chat completions API with tool calling, through the
official SDK, at OpenAI or any server that speaks it (`parameters.base_url`:
Azure OpenAI's v1 API, vLLM, Ollama, LM Studio). Streamed unless
`parameters.stream` is false, with the usage in the last chunk."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel

from sealed.identity.backend import SecretValue
from sealed.llm.base import (
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
    Streamed,
    TextSink,
    load_sdk,
    provider_key,
    register_provider,
)
from sealed.llm.parameters import OpenAIParameters
from sealed.llm.wire import (
    ToolNames,
    arguments,
    http_failure,
    parsed,
    pinned_headers,
    tool_call,
    wire_name,
)
from sealed.models import Message, ModelReply, ModelRequest, TokenUsage, ToolCall

PROVIDER = "openai"
# The SDK wants a key; a keyless server (`base_url`, no `api_key_secret`) is
# sent no Authorization header at all, and this value never leaves the client.
_NO_KEY = "unused"


# --- the reply, as much of it as the runtime reads -----------------------------


class _Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def usage(self) -> TokenUsage:
        return TokenUsage(input_tokens=self.prompt_tokens, output_tokens=self.completion_tokens)


class _Function(BaseModel):
    name: str
    arguments: str = ""


class _Call(BaseModel):
    function: _Function


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[_Call] | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Completion(BaseModel):
    choices: list[_Choice]
    usage: _Usage | None = None


class _DeltaFunction(BaseModel):
    name: str | None = None
    arguments: str | None = None


class _DeltaCall(BaseModel):
    index: int
    function: _DeltaFunction | None = None


class _Delta(BaseModel):
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[_DeltaCall] | None = None


class _ChunkChoice(BaseModel):
    index: int = 0
    delta: _Delta
    finish_reason: str | None = None


class _Chunk(BaseModel):
    choices: list[_ChunkChoice] = []
    usage: _Usage | None = None


# --- the request ------------------------------------------------------------------


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role != "assistant":
        return {"role": message.role, "content": message.content}
    wire: dict[str, Any] = {"role": "assistant", "content": message.content or None}
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": wire_name(call.name), "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return wire


def request_body(request: ModelRequest, params: OpenAIParameters) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model.name,
        "messages": [
            {"role": "system", "content": request.system_prompt},
            {"role": "user", "content": request.goal},
            *(_message(m) for m in request.conversation),
        ],
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": wire_name(t.name),
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
    for name in ("temperature", "max_completion_tokens", "max_tokens"):
        if (value := getattr(params, name)) is not None:
            body[name] = value
    if params.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


# --- the turn ------------------------------------------------------------------------


def _cut_short(finish_reason: str | None, calls: int) -> None:
    if finish_reason == "length" and calls:
        raise ModelRejected(
            "the reply reached its token limit in the middle of a tool call: "
            "raise parameters.max_completion_tokens"
        )


class _Assembly:
    """A streamed reply, put together from its chunks."""

    def __init__(self, sink: TextSink) -> None:
        self._sink = sink
        self.text: list[str] = []
        self.names: dict[int, str] = {}
        self.args: dict[int, list[str]] = {}
        self.finish_reason: str | None = None
        self.usage: TokenUsage | None = None

    def add(self, chunk: _Chunk) -> None:
        if chunk.usage is not None:
            self.usage = chunk.usage.usage()
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            self.finish_reason = choice.finish_reason or self.finish_reason
            for piece in (choice.delta.content, choice.delta.refusal):
                if piece:
                    self.text.append(piece)
                    self._sink(piece)
            for call in choice.delta.tool_calls or []:
                function = call.function or _DeltaFunction()
                if function.name and call.index not in self.names:
                    self.names[call.index] = function.name
                self.args.setdefault(call.index, []).append(function.arguments or "")

    def reply(self, turn: int, names: ToolNames) -> ModelReply:
        if set(self.args) - set(self.names):
            raise ModelMalformedReply("a streamed tool call never said its name")
        _cut_short(self.finish_reason, len(self.names))
        calls = [
            tool_call(turn, i, names, self.names[index], arguments("".join(self.args[index]), name))
            for i, (index, name) in enumerate(sorted(self.names.items()))
        ]
        return ModelReply(content="".join(self.text), tool_calls=calls, usage=self.usage)


def _completed(completion: _Completion, turn: int, names: ToolNames) -> ModelReply:
    if not completion.choices:
        raise ModelMalformedReply("the server's chat completion has no choices")
    choice = completion.choices[0]
    message = choice.message
    wire_calls = message.tool_calls or []
    _cut_short(choice.finish_reason, len(wire_calls))
    calls: list[ToolCall] = [
        tool_call(turn, i, names, c.function.name, arguments(c.function.arguments, c.function.name))
        for i, c in enumerate(wire_calls)
    ]
    return ModelReply(
        content=message.content or message.refusal or "",
        tool_calls=calls,
        usage=completion.usage.usage() if completion.usage else None,
    )


class OpenAIChat(Streamed):
    async def stream(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue], sink: TextSink
    ) -> ModelReply:
        await load_sdk("openai")
        import httpx2  # the SDK's transport, loaded with it
        import openai

        params = OpenAIParameters.model_validate(request.model.parameters)
        key = provider_key(request, credentials)
        names = ToolNames(request.tools)
        client = openai.AsyncOpenAI(
            api_key=key or _NO_KEY,
            base_url=params.url(),
            timeout=params.timeout,
            # Temporal's retry policy owns retrying: one request per attempt.
            max_retries=0,
        )
        # The key is the client's own header, over any its constructor read from
        # the environment (OPENAI_CUSTOM_HEADERS), and so are the organization
        # and project (OPENAI_ORG_ID, OPENAI_PROJECT_ID). A keyless server is
        # sent no Authorization, which the SDK accepts only from the request.
        pinned = pinned_headers(client.auth_headers if key else {}, openai.Omit())
        client = client.with_options(default_headers=cast("dict[str, str]", pinned))
        client.organization, client.project = params.organization, params.project
        headers = None if key else {"authorization": openai.Omit()}
        try:
            body = request_body(request, params)
            if not params.stream:
                completion: Any = await client.chat.completions.create(
                    **body, extra_headers=headers
                )
                whole = parsed(_Completion, completion, "chat completion")
                return _completed(whole, request.turn, names)
            assembly = _Assembly(sink)
            stream: Any = await client.chat.completions.create(**body, extra_headers=headers)
            async with stream:
                async for chunk in stream:
                    assembly.add(parsed(_Chunk, chunk, "chat completion chunk"))
            return assembly.reply(request.turn, names)
        except openai.APIResponseValidationError:
            raise ModelMalformedReply("malformed chat completion from the server") from None
        except openai.APIStatusError as exc:
            raise http_failure(
                exc.status_code, exc.message, exc.response.headers.get("retry-after")
            ) from None
        except openai.APIConnectionError as exc:  # timeouts too
            raise ModelTransientError(f"{type(exc).__name__}: {exc.message}") from None
        except httpx2.TransportError as exc:  # a stream that breaks or stalls half-way
            raise ModelTransientError(f"the stream broke off: {type(exc).__name__}") from None
        except openai.APIError as exc:  # an error event in the middle of a stream
            raise ModelTransientError(f"the stream failed: {exc.message}") from None
        except ValueError:  # a body or an event that is not JSON
            raise ModelMalformedReply("the server's reply is not JSON") from None
        finally:
            await client.close()


register_provider(PROVIDER, OpenAIChat)
