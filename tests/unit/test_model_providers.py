"""The real providers (openai, anthropic, bedrock) with their real SDKs, against
a local server that speaks each wire format (tests.model_servers): streamed
and whole replies, tool calls, usage, what each failure becomes, and that the
key comes from the turn's credentials and nowhere else."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sealed.identity.backend import SecretValue
from sealed.llm.base import (
    ModelConfigError,
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
    StreamingProvider,
    get_provider,
)
from sealed.models import Message, ModelReply, ModelRequest, ModelSpec, ToolCall, ToolInfo
from tests.model_servers import (
    ModelServer,
    Reply,
    Seen,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    bedrock_error,
    bedrock_exception,
    bedrock_response,
    bedrock_stream,
    json_reply,
    openai_completion,
    openai_error,
    openai_stream,
    sse_reply,
)

KEY = "sk-test-5f3c9a1e7d2b4c6a8e0f"
AWS = {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"}
TOOLS = [
    ToolInfo(
        name="tickets.read",
        description="Read one ticket.",
        privilege="low",
        parameters={"type": "object", "properties": {"ticket_id": {"type": "integer"}}},
    ),
    ToolInfo(name="tickets.list", description="List.", privilege="low", parameters={}),
]
CONVERSATION = [
    Message(
        role="assistant",
        content="Reading it.",
        tool_calls=[ToolCall(id="call-1-0", name="tickets.read", arguments={"ticket_id": 1})],
    ),
    Message(role="tool", content="ticket 1: printer on fire", tool_call_id="call-1-0"),
    Message(role="user", content="answer refused by directive x: too long"),
]


@dataclass
class Wire:
    """One provider, as its tests drive it."""

    provider: str
    model: str
    key: str
    params: Callable[[ModelServer], dict[str, Any]]
    streamed: Callable[..., Reply]
    whole: Callable[..., Reply]
    error: Callable[[int, str], Reply]

    def request(self, server: ModelServer, **parameters: Any) -> ModelRequest:
        return ModelRequest(
            mission_id="m-1",
            turn=2,
            model=ModelSpec(
                provider=self.provider,
                name=self.model,
                parameters={**self.params(server), **parameters},
                api_key_secret="model_key",
            ),
            system_prompt="You are careful.",
            goal="Triage ticket 1.",
            conversation=CONVERSATION,
            tools=TOOLS,
        )

    @property
    def credentials(self) -> dict[str, SecretValue]:
        return {"model_key": SecretValue("model_key", self.key)}

    async def ask(
        self, server: ModelServer, sink: Callable[[str], None] | None = None, **parameters: Any
    ) -> ModelReply:
        provider = get_provider(self.provider)
        assert isinstance(provider, StreamingProvider)
        request = self.request(server, **parameters)
        return await provider.stream(request, self.credentials, sink or (lambda _: None))


def _bedrock_error(status: int, message: str) -> Reply:
    kinds = {429: "ThrottlingException", 500: "InternalServerException", 503: "x"}
    kinds |= {400: "ValidationException", 401: "UnrecognizedClientException"}
    kinds |= {403: "AccessDeniedException", 404: "ResourceNotFoundException"}
    return bedrock_error(status, kinds.get(status, "ServiceUnavailableException"), message)


WIRES = [
    Wire(
        "openai",
        "gpt-4o-mini",
        KEY,
        lambda s: {"base_url": f"{s.url}/v1"},
        openai_stream,
        openai_completion,
        lambda status, message: openai_error(
            status, message, {"retry-after": "2"} if status == 429 else None
        ),
    ),
    Wire(
        "anthropic",
        "claude-haiku-4-5",
        KEY,
        lambda s: {"base_url": s.url},
        anthropic_stream,
        anthropic_message,
        anthropic_error,
    ),
    Wire(
        "bedrock",
        "anthropic.claude-3-haiku-20240307-v1:0",
        json.dumps(AWS),
        lambda s: {"base_url": s.url, "region": "eu-west-1"},
        bedrock_stream,
        bedrock_response,
        _bedrock_error,
    ),
]
BY_NAME = {w.provider: w for w in WIRES}


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer().running() as running:
        yield running


def sent_key(wire: Wire, seen: Seen) -> str:
    """The credential the request carried."""
    if wire.provider == "bedrock":
        return seen.headers["authorization"].split("Credential=")[1].split("/")[0]
    return seen.headers["authorization"].removeprefix("Bearer ")


def streamed_call(wire: Wire, text: list[str], pieces: list[str], **more: Any) -> Reply:
    return wire.streamed(text=text, calls=[("tickets-read", pieces)], **more)


# --- replies --------------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_streamed_reply_reaches_the_sink_and_its_calls_come_back(
    wire: Wire, server: ModelServer
):
    server.reply(
        streamed_call(wire, ["Let me ", "look at ", "ticket 2."], ['{"ticket', '_id": 2}'])
    )
    chunks: list[str] = []
    reply = await wire.ask(server, chunks.append)
    assert chunks == ["Let me ", "look at ", "ticket 2."]
    assert reply.content == "".join(chunks)
    # Sealed names, and ids of the runtime's making (unique in the mission).
    assert reply.tool_calls == [
        ToolCall(id="call-2-0", name="tickets.read", arguments={"ticket_id": 2})
    ]
    assert reply.usage is not None and reply.usage.input_tokens > 0 < reply.usage.output_tokens
    [seen] = server.requests
    assert sent_key(wire, seen) == (AWS["AccessKeyId"] if wire.provider == "bedrock" else KEY)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_whole_reply_when_streaming_is_off(wire: Wire, server: ModelServer):
    server.reply(wire.whole(text="Checking.", calls=[("tickets-read", {"ticket_id": 2})]))
    chunks: list[str] = []
    reply = await wire.ask(server, chunks.append, stream=False)
    assert chunks == []
    assert reply.content == "Checking."
    assert reply.tool_calls == [
        ToolCall(id="call-2-0", name="tickets.read", arguments={"ticket_id": 2})
    ]
    assert reply.usage is not None
    body = server.requests[0].body
    assert "stream" not in body and "converse-stream" not in server.requests[0].path


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_final_answer_streams_with_no_calls(wire: Wire, server: ModelServer):
    server.reply(wire.streamed(text=["All ", "done."]))
    reply = await wire.ask(server)
    assert (reply.content, reply.tool_calls, reply.is_final) == ("All done.", [], True)


async def test_openai_request_on_the_wire(server: ModelServer):
    wire = BY_NAME["openai"]
    server.reply(openai_stream(["ok"]))
    await wire.ask(server, temperature=0.2, max_completion_tokens=300)
    body = server.requests[0].body
    assert body["model"] == "gpt-4o-mini" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["max_completion_tokens"]) == (0.2, 300)
    assert body["messages"] == [
        {"role": "system", "content": "You are careful."},
        {"role": "user", "content": "Triage ticket 1."},
        {
            "role": "assistant",
            "content": "Reading it.",
            "tool_calls": [
                {
                    "id": "call-1-0",
                    "type": "function",
                    "function": {"name": "tickets-read", "arguments": '{"ticket_id": 1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call-1-0", "content": "ticket 1: printer on fire"},
        {"role": "user", "content": "answer refused by directive x: too long"},
    ]
    assert [t["function"]["name"] for t in body["tools"]] == ["tickets-read", "tickets-list"]
    assert body["tools"][0]["function"]["parameters"] == TOOLS[0].parameters


async def test_anthropic_request_on_the_wire(server: ModelServer):
    wire = BY_NAME["anthropic"]
    server.reply(anthropic_stream(["ok"]))
    await wire.ask(server, max_tokens=512)
    body = server.requests[0].body
    assert server.requests[0].path == "/v1/messages"
    assert (body["model"], body["max_tokens"], body["system"]) == (
        "claude-haiku-4-5",
        512,
        "You are careful.",
    )
    # Roles alternate: the tool's result and the runtime's word are one user turn.
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Triage ticket 1."}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading it."},
                {
                    "type": "tool_use",
                    "id": "call-1-0",
                    "name": "tickets-read",
                    "input": {"ticket_id": 1},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "call-1-0",
                    "content": "ticket 1: printer on fire",
                    "is_error": False,
                },
                {"type": "text", "text": "answer refused by directive x: too long"},
            ],
        },
    ]
    assert body["tools"][0] == {
        "name": "tickets-read",
        "description": "Read one ticket.",
        "input_schema": TOOLS[0].parameters,
    }


async def test_bedrock_request_on_the_wire(server: ModelServer):
    wire = BY_NAME["bedrock"]
    server.reply(bedrock_stream(["ok"]))
    await wire.ask(server, max_tokens=256, temperature=0.5)
    seen = server.requests[0]
    assert seen.path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    assert "/eu-west-1/bedrock/aws4_request" in seen.headers["authorization"]
    body = seen.body
    assert body["system"] == [{"text": "You are careful."}]
    assert body["inferenceConfig"] == {"maxTokens": 256, "temperature": 0.5}
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"text": "Reading it."},
                {
                    "toolUse": {
                        "toolUseId": "call-1-0",
                        "name": "tickets-read",
                        "input": {"ticket_id": 1},
                    }
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "call-1-0",
                        "content": [{"text": "ticket 1: printer on fire"}],
                        "status": "success",
                    }
                },
                {"text": "answer refused by directive x: too long"},
            ],
        },
    ]
    spec = body["toolConfig"]["tools"][0]["toolSpec"]
    assert spec == {
        "name": "tickets-read",
        "description": "Read one ticket.",
        "inputSchema": {"json": TOOLS[0].parameters},
    }


# --- failures -------------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ModelTransientError),
        (500, ModelTransientError),
        (503, ModelTransientError),
        (400, ModelRejected),
        (401, ModelConfigError),
        (403, ModelConfigError),
        (404, ModelConfigError),
    ],
)
async def test_what_each_status_becomes_after_one_request(
    wire: Wire, server: ModelServer, status: int, kind: type
):
    server.reply(wire.error(status, f"nope {status}"), wire.streamed(text=["never read"]))
    with pytest.raises(kind, match=f"nope {status}"):
        await wire.ask(server)
    # The SDK does not retry: Temporal's retry policy does.
    assert len(server.requests) == 1


@pytest.mark.parametrize("wire", WIRES[:2], ids=lambda w: w.provider)
async def test_a_rate_limit_passes_on_how_long_to_wait(wire: Wire, server: ModelServer):
    server.reply(wire.error(429, "slow down"))
    with pytest.raises(ModelTransientError) as raised:
        await wire.ask(server)
    assert raised.value.retry_after is not None and raised.value.retry_after.total_seconds() == 2


MALFORMED = {
    "openai": [
        json_reply({"id": "x", "choices": [{"index": 0, "message": "not an object"}]}),
        json_reply({"id": "x", "object": "chat.completion"}),
    ],
    "anthropic": [
        json_reply({"id": "x", "type": "message", "content": "not a list"}),
        json_reply({"id": "x", "type": "message"}),
    ],
    "bedrock": [
        json_reply({"output": {"message": {"role": "assistant"}}}),
        json_reply({"stopReason": "end_turn"}),
    ],
}


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
@pytest.mark.parametrize("which", [0, 1])
async def test_a_body_missing_what_the_api_promises_is_malformed(
    wire: Wire, server: ModelServer, which: int
):
    server.reply(MALFORMED[wire.provider][which])
    with pytest.raises(ModelMalformedReply, match="malformed"):
        await wire.ask(server, stream=False)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_body_that_is_not_json_is_malformed(wire: Wire, server: ModelServer):
    server.reply(Reply(200, [b"<html>gateway</html>"], {"Content-Type": "application/json"}))
    with pytest.raises(ModelMalformedReply):
        await wire.ask(server, stream=False)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_tool_arguments_that_are_not_json_are_malformed(wire: Wire, server: ModelServer):
    server.reply(streamed_call(wire, [], ['{"ticket_id": ', "2,,"]))
    with pytest.raises(ModelMalformedReply, match="'tickets-read' are not valid JSON") as raised:
        await wire.ask(server)
    assert raised.value.retryable  # a model asked again usually writes it whole


async def test_a_broken_stream_event_is_malformed(server: ModelServer):
    server.reply(sse_reply([(None, {"choices": [{"index": 0}]})]))
    with pytest.raises(ModelMalformedReply, match="chat completion chunk"):
        await BY_NAME["openai"].ask(server)
    server.reply(sse_reply([(None, "{not json")]))
    with pytest.raises(ModelMalformedReply, match="not JSON"):
        await BY_NAME["openai"].ask(server)


async def test_an_error_in_the_middle_of_an_anthropic_stream_passes(server: ModelServer):
    server.reply(
        sse_reply(
            [
                ("message_start", {"type": "message_start", "message": {"usage": {}}}),
                (
                    "error",
                    {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
                ),
            ]
        )
    )
    with pytest.raises(ModelTransientError, match="busy"):
        await BY_NAME["anthropic"].ask(server)


@pytest.mark.parametrize(
    ("exception", "kind"),
    [("throttlingException", ModelTransientError), ("validationException", ModelRejected)],
)
async def test_an_error_event_in_a_bedrock_stream(server: ModelServer, exception: str, kind: type):
    server.reply(
        bedrock_stream(["partial "], tail=[bedrock_exception(exception, "stream says no")])
    )
    with pytest.raises(kind, match="stream says no"):
        await BY_NAME["bedrock"].ask(server)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_call_cut_at_the_token_limit_is_refused_not_retried(
    wire: Wire, server: ModelServer
):
    stop = "length" if wire.provider == "openai" else "max_tokens"
    server.reply(streamed_call(wire, [], ['{"ticket_id"'], stop=stop))
    with pytest.raises(ModelRejected, match=r"token limit|max_tokens"):
        await wire.ask(server)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_server_that_is_not_there_passes(wire: Wire, server: ModelServer):
    gone = f"http://127.0.0.1:{unused_port()}"
    url = f"{gone}/v1" if wire.provider == "openai" else gone
    with pytest.raises(ModelTransientError):
        await wire.ask(server, base_url=url)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_server_that_stalls_times_out_and_passes(wire: Wire, server: ModelServer):
    stalled = wire.streamed(text=["a", "b"])
    stalled.pause = 1.5
    server.reply(stalled)
    with pytest.raises(ModelTransientError):
        await wire.ask(server, timeout=0.3)


# --- the key --------------------------------------------------------------------------


@pytest.fixture
def worker_environment(monkeypatch: pytest.MonkeyPatch) -> str:
    """A worker whose environment holds every credential the SDKs look for."""
    env_key = "sk-env-0000000000000000000000"
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.setenv(name, env_key)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    headers = f"Authorization: Bearer {env_key}\nX-Api-Key: {env_key}\napi-key: {env_key}"
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", headers)
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", headers)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENVENV0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("AWS_PROFILE", "the-workers-own")
    return env_key


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_the_key_is_the_turns_never_the_workers_environment(
    wire: Wire, server: ModelServer, worker_environment: str
):
    server.reply(wire.error(500, "once"))
    with pytest.raises(ModelTransientError):
        await wire.ask(server)
    [seen] = server.requests  # at the mission's endpoint, once (AWS_MAX_ATTEMPTS ignored)
    assert sent_key(wire, seen) == (AWS["AccessKeyId"] if wire.provider == "bedrock" else KEY)
    assert not any(worker_environment in value for value in seen.headers.values())
    assert not {"x-api-key", "api-key", "openai-organization", "openai-project"} & set(seen.headers)


async def test_a_keyless_server_is_sent_no_key(server: ModelServer, worker_environment: str):
    server.reply(openai_stream(["hi"]))
    request = ModelRequest(
        mission_id="m-1",
        turn=1,
        model=ModelSpec(
            provider="openai", name="llama3", parameters={"base_url": f"{server.url}/v1"}
        ),
        system_prompt="s",
        goal="g",
        conversation=[],
        tools=[],
    )
    reply = await get_provider("openai").complete(request, {})
    assert reply.content == "hi"
    assert "authorization" not in server.requests[0].headers
    assert not any(worker_environment in v for v in server.requests[0].headers.values())


async def test_openai_organization_and_project_are_the_missions(server: ModelServer):
    server.reply(openai_stream(["hi"]))
    await BY_NAME["openai"].ask(server, organization="org-1", project="proj-1")
    headers = server.requests[0].headers
    assert (headers["openai-organization"], headers["openai-project"]) == ("org-1", "proj-1")


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider)
async def test_a_key_that_was_not_issued_is_a_config_error(wire: Wire, server: ModelServer):
    provider: Any = get_provider(wire.provider)
    with pytest.raises(ModelConfigError, match=r"model_key|api_key_secret"):
        await provider.stream(wire.request(server), {}, lambda _: None)
    assert server.requests == []


@pytest.mark.parametrize("value", ["not json", json.dumps({"AccessKeyId": "AKIA"}), "[1]"])
async def test_bedrock_needs_aws_credentials_as_json(server: ModelServer, value: str):
    wire = BY_NAME["bedrock"]
    credentials = {"model_key": SecretValue("model_key", value)}
    with pytest.raises(ModelConfigError, match="must hold AWS credentials as JSON") as raised:
        await get_provider("bedrock").complete(wire.request(server), credentials)
    assert value not in str(raised.value) or value == "[1]"
    assert server.requests == []


async def test_bedrock_sends_the_session_token(server: ModelServer):
    wire = BY_NAME["bedrock"]
    server.reply(bedrock_stream(["ok"]))
    session = {**AWS, "SessionToken": "FwoGZXIvYXdzEJr//////////session"}
    credentials = {"model_key": SecretValue("model_key", json.dumps(session))}
    await get_provider("bedrock").complete(wire.request(server), credentials)
    assert server.requests[0].headers["x-amz-security-token"] == session["SessionToken"]


@pytest.mark.parametrize(
    ("wire", "module"), [(BY_NAME["openai"], "openai"), (BY_NAME["anthropic"], "anthropic")]
)
async def test_a_missing_sdk_says_how_to_install_it(
    wire: Wire, module: str, server: ModelServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    with pytest.raises(ModelConfigError, match=r"pip install 'sealed-runtime\[models\]'"):
        await wire.ask(server)


async def test_a_corrupt_bedrock_event_stream_is_malformed(server: ModelServer):
    server.reply(
        Reply(
            200,
            [b"\x00\x00\x00\x20" + b"x" * 28],
            {"Content-Type": "application/vnd.amazon.eventstream"},
        )
    )
    with pytest.raises(ModelMalformedReply, match="ChecksumMismatch"):
        await BY_NAME["bedrock"].ask(server)
