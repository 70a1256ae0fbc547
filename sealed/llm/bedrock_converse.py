"""`provider: bedrock`: Amazon Bedrock's Converse API with tool use, through
botocore, boto3's core (`converse_stream`, or `converse` when
`parameters.stream` is false).

Its key is the mission's AWS credentials, issued for the turn like any
profile secret (an aws-sts role session is the natural one): never the
worker's own chain. botocore is synchronous, so each call runs in a thread."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.eventstream import ParserError as EventStreamParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    ParamValidationError,
)
from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from urllib3.exceptions import HTTPError as StreamBroken

from sealed.identity.backend import SecretValue
from sealed.llm.base import (
    ModelConfigError,
    ModelError,
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
    Streamed,
    TextSink,
    quiet_sdk_logs,
    register_provider,
)
from sealed.llm.parameters import BedrockParameters
from sealed.llm.wire import (
    MESSAGE_MAX,
    ToolNames,
    arguments,
    http_failure,
    merged,
    parsed,
    wire_name,
)
from sealed.llm.wire import tool_call as sealed_call
from sealed.models import Message, ModelReply, ModelRequest, TokenUsage

PROVIDER = "bedrock"
# Error events of a stream (botocore's EventStreamError codes) that pass.
_TRANSIENT_EVENTS = {
    "internalserverexception",
    "modelstreamerrorexception",
    "throttlingexception",
    "serviceunavailableexception",
}


class AwsKeys(BaseModel):
    """The secret's value: what an aws-sts secret issues, or the same JSON
    kept in any other backend."""

    model_config = ConfigDict(extra="ignore")

    access_key_id: str = Field(alias="AccessKeyId", min_length=1)
    secret_access_key: str = Field(alias="SecretAccessKey", min_length=1)
    session_token: str | None = Field(default=None, alias="SessionToken")


def aws_keys(request: ModelRequest, credentials: Mapping[str, SecretValue]) -> AwsKeys:
    name = request.model.api_key_secret
    secret = credentials.get(name) if name is not None else None
    if name is None or secret is None:
        raise ModelConfigError("the bedrock provider needs 'api_key_secret': AWS credentials")
    try:
        return AwsKeys.model_validate_json(secret.reveal())
    except ValidationError:
        # Not its errors: they would quote the value.
        raise ModelConfigError(
            f"the model key '{name}' must hold AWS credentials as JSON: "
            "{AccessKeyId, SecretAccessKey[, SessionToken]}"
        ) from None


@functools.cache
def _botocore() -> botocore.session.Session:
    """One session for every turn: it loads the service's model once (a client
    of its own costs a turn a few hundred milliseconds). Each client gets the
    turn's keys; the session's own profile is no one's (AWS_PROFILE names the
    worker's identity, and a missing one must not fail the mission)."""
    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


_CLIENTS = threading.Lock()  # a botocore session builds one client at a time


def client(params: BedrockParameters, keys: AwsKeys) -> Any:
    """A client that signs with the mission's keys, in the mission's region, at
    the mission's endpoint, and tries once: none of them from the worker's
    environment or files (AWS_ENDPOINT_URL* ignored; explicit keys bypass the
    credential chain), and Temporal's retry policy owns retrying."""
    config = Config(  # type: ignore[call-arg]  # the stubs predate ignore_configured_endpoint_urls
        connect_timeout=min(10.0, params.timeout),
        read_timeout=params.timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},
        ignore_configured_endpoint_urls=True,
    )
    with _CLIENTS:
        return _botocore().create_client(
            "bedrock-runtime",
            region_name=params.region,
            endpoint_url=params.url(),
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=config,
        )


# --- the reply, as much of it as the runtime reads -----------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class _Usage(_Wire):
    input_tokens: int = Field(default=0, alias="inputTokens")
    output_tokens: int = Field(default=0, alias="outputTokens")

    def usage(self) -> TokenUsage:
        return TokenUsage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)


class _ToolUse(_Wire):
    name: str
    input: dict[str, Any]


class _Block(_Wire):
    text: str | None = None
    tool_use: _ToolUse | None = Field(default=None, alias="toolUse")


class _OutputMessage(_Wire):
    content: list[_Block]


class _Output(_Wire):
    message: _OutputMessage


class _Response(_Wire):
    output: _Output
    stop_reason: str | None = Field(default=None, alias="stopReason")
    usage: _Usage | None = None


class _StartedUse(_Wire):
    name: str


class _Start(_Wire):
    tool_use: _StartedUse | None = Field(default=None, alias="toolUse")


class _BlockStart(_Wire):
    start: _Start
    index: int = Field(alias="contentBlockIndex")


class _UseDelta(_Wire):
    input: str = ""


class _Delta(_Wire):
    text: str | None = None
    tool_use: _UseDelta | None = Field(default=None, alias="toolUse")


class _BlockDelta(_Wire):
    delta: _Delta
    index: int = Field(alias="contentBlockIndex")


class _Stop(_Wire):
    stop_reason: str | None = Field(default=None, alias="stopReason")


class _Metadata(_Wire):
    usage: _Usage | None = None


class _Event(_Wire):
    block_start: _BlockStart | None = Field(default=None, alias="contentBlockStart")
    block_delta: _BlockDelta | None = Field(default=None, alias="contentBlockDelta")
    message_stop: _Stop | None = Field(default=None, alias="messageStop")
    metadata: _Metadata | None = None


def _cut_short(stop_reason: str | None, calls: int) -> None:
    if stop_reason == "max_tokens" and calls:
        raise ModelRejected(
            "the reply reached max_tokens in the middle of a tool call: raise parameters.max_tokens"
        )


# --- the request ------------------------------------------------------------------


def _text(text: str) -> list[dict[str, Any]]:
    # The API refuses blank text blocks.
    return [{"text": text}] if text.strip() else []


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        result = {
            "toolUseId": message.tool_call_id,
            "content": [{"text": message.content or "(no output)"}],
            "status": "error" if message.is_error else "success",
        }
        return {"role": "user", "content": [{"toolResult": result}]}
    if message.role != "assistant":
        return {"role": "user", "content": _text(message.content)}
    uses = [
        {"toolUse": {"toolUseId": c.id, "name": wire_name(c.name), "input": c.arguments}}
        for c in message.tool_calls
    ]
    return {"role": "assistant", "content": [*_text(message.content), *uses]}


def request_body(request: ModelRequest, params: BedrockParameters) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": _text(request.goal)},
        *(_message(m) for m in request.conversation),
    ]
    body: dict[str, Any] = {
        "modelId": request.model.name,
        "system": _text(request.system_prompt),
        "messages": [m for m in merged(messages, "content") if m["content"]],
    }
    inference = {"maxTokens": params.max_tokens, "temperature": params.temperature}
    if any(v is not None for v in inference.values()):
        body["inferenceConfig"] = {k: v for k, v in inference.items() if v is not None}
    if request.tools:
        body["toolConfig"] = {
            "tools": [
                {
                    "toolSpec": {
                        "name": wire_name(t.name),
                        "description": t.description,
                        "inputSchema": {"json": t.parameters},
                    }
                }
                for t in request.tools
            ]
        }
    return body


# --- the turn ------------------------------------------------------------------------


def _completed(response: _Response, turn: int, names: ToolNames) -> ModelReply:
    blocks = response.output.message.content
    uses = [b.tool_use for b in blocks if b.tool_use is not None]
    _cut_short(response.stop_reason, len(uses))
    return ModelReply(
        content="".join(b.text for b in blocks if b.text is not None),
        tool_calls=[sealed_call(turn, i, names, u.name, u.input) for i, u in enumerate(uses)],
        usage=response.usage.usage() if response.usage else None,
    )


async def _streamed(
    events: Iterator[dict[str, Any]], turn: int, names: ToolNames, sink: TextSink
) -> ModelReply:
    text: list[str] = []
    uses: dict[int, tuple[str, list[str]]] = {}
    stop_reason: str | None = None
    usage: TokenUsage | None = None
    # One thread hop per event: the event stream's reads block.
    while (raw := await asyncio.to_thread(next, events, None)) is not None:
        event = parsed(_Event, raw, "Converse stream event")
        if event.block_start is not None and event.block_start.start.tool_use is not None:
            uses[event.block_start.index] = (event.block_start.start.tool_use.name, [])
        if event.block_delta is not None:
            delta, index = event.block_delta.delta, event.block_delta.index
            if delta.text:
                text.append(delta.text)
                sink(delta.text)
            if delta.tool_use is not None:
                if index not in uses:
                    raise ModelMalformedReply("tool input for a block that is not a tool use")
                uses[index][1].append(delta.tool_use.input)
        if event.message_stop is not None:
            stop_reason = event.message_stop.stop_reason
        if event.metadata is not None and event.metadata.usage is not None:
            usage = event.metadata.usage.usage()
    _cut_short(stop_reason, len(uses))
    calls = [
        sealed_call(turn, i, names, name, arguments("".join(parts), name))
        for i, (_, (name, parts)) in enumerate(sorted(uses.items()))
    ]
    return ModelReply(content="".join(text), tool_calls=calls, usage=usage)


def _failure(exc: ClientError) -> ModelError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "error"))
    message = f"{code}: {error.get('Message', '')}"
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    if code.lower() in _TRANSIENT_EVENTS:
        return ModelTransientError(message[:MESSAGE_MAX])
    if status < 400:  # an error event in the stream that says the request is wrong
        return ModelRejected(message[:MESSAGE_MAX])
    return http_failure(status, message, meta.get("HTTPHeaders", {}).get("retry-after"))


class BedrockConverse(Streamed):
    async def stream(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue], sink: TextSink
    ) -> ModelReply:
        quiet_sdk_logs()
        params = BedrockParameters.model_validate(request.model.parameters)
        keys = aws_keys(request, credentials)
        names = ToolNames(request.tools)
        body = request_body(request, params)
        try:
            bedrock = await asyncio.to_thread(client, params, keys)
            if not params.stream:
                response = await asyncio.to_thread(bedrock.converse, **body)
                whole = parsed(_Response, response, "Converse response")
                return _completed(whole, request.turn, names)
            response = await asyncio.to_thread(bedrock.converse_stream, **body)
            stream = response["stream"]
            try:
                return await _streamed(iter(stream), request.turn, names, sink)
            finally:
                stream.close()
        except ParamValidationError as exc:
            raise ModelRejected(f"Bedrock refuses the request as built: {exc}") from None
        except ClientError as exc:  # the stream's error events too (EventStreamError)
            raise _failure(exc) from None
        except (ConnectionError, HTTPClientError, StreamBroken) as exc:  # timeouts too
            raise ModelTransientError(f"{type(exc).__name__}: cannot reach Bedrock") from None
        except (ResponseParserError, EventStreamParserError, ValueError) as exc:
            what = type(exc).__name__
            raise ModelMalformedReply(f"malformed Converse response ({what})") from None
        except BotoCoreError as exc:  # botocore cannot use what the mission said
            raise ModelConfigError(f"{type(exc).__name__}: {exc}") from None


register_provider(PROVIDER, BedrockConverse)
