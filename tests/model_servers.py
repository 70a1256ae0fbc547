"""A local HTTP server that speaks a model API's wire format, so the providers'
tests run the real SDKs (openai, anthropic, boto3) end to end: chat
completions and Anthropic's messages as JSON or server-sent events, Bedrock's
Converse as JSON or an AWS event stream. Each test scripts its replies in
order and reads back what each request said."""

from __future__ import annotations

import binascii
import contextlib
import json
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Between chunks: a reply that streams in over time (heartbeats see it).
    pause: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ModelServer:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                server.requests.append(
                    Seen(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw) if raw else {},
                    )
                )
                reply = (
                    server.replies.popleft()
                    if server.replies
                    else json_reply({"error": "no reply scripted"}, 500)
                )
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A client that gave up (a timeout under test) is no error here.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for i, chunk in enumerate(reply.body):
                        if i and reply.pause:
                            time.sleep(reply.pause)
                        self.wfile.write(chunk)
                        self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._http.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    @contextlib.contextmanager
    def running(self) -> Iterator[ModelServer]:
        thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()


def json_reply(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return Reply(
        status,
        [data],
        {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})},
    )


def sse_reply(events: list[tuple[str | None, object]], pause: float = 0.0) -> Reply:
    """Server-sent events, each `(event name or None, data)`; a str data is sent as is."""
    chunks = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        chunks.append(f"{head}data: {text}\n\n".encode())
    return Reply(200, chunks, {"Content-Type": "text/event-stream"}, pause)


# --- OpenAI chat completions --------------------------------------------------------


def openai_completion(
    text: str = "",
    calls: Sequence[tuple[str, dict[str, Any]]] = (),
    usage: tuple[int, int] = (11, 7),
    stop: str | None = None,
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": n, "arguments": json.dumps(a)},
            }
            for i, (n, a) in enumerate(calls)
        ]
    return json_reply(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": stop or ("tool_calls" if calls else "stop"),
                }
            ],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": 0},
        }
    )


def _openai_chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def openai_stream(
    text: Sequence[str] = (),
    calls: Sequence[tuple[str, list[str]]] = (),
    usage: tuple[int, int] | None = (11, 7),
    pause: float = 0.0,
    stop: str | None = None,
) -> Reply:
    """Text in the chunks given, then each call's name and its arguments in
    the pieces given, then the usage chunk (stream_options.include_usage)."""
    events: list[tuple[str | None, object]] = [(None, _openai_chunk({"role": "assistant"}))]
    events += [(None, _openai_chunk({"content": piece})) for piece in text]
    for index, (name, pieces) in enumerate(calls):
        start = {"index": index, "id": f"call_{index}", "type": "function"}
        start["function"] = {"name": name, "arguments": ""}
        events.append((None, _openai_chunk({"tool_calls": [start]})))
        for piece in pieces:
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            events.append((None, _openai_chunk(delta)))
    final = stop or ("tool_calls" if calls else "stop")
    events.append((None, _openai_chunk({}, final)))
    if usage is not None:
        done = {**_openai_chunk({}), "choices": []}
        done["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1]}
        events.append((None, done))
    events.append((None, "[DONE]"))
    return sse_reply(events, pause)


def openai_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"error": {"message": message, "type": "error"}}, status, headers)


# --- Anthropic messages -----------------------------------------------------------


def anthropic_message(
    text: str = "",
    calls: Sequence[tuple[str, dict[str, Any]]] = (),
    usage: tuple[int, int] = (13, 5),
    stop: str | None = None,
) -> Reply:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": a}
        for i, (n, a) in enumerate(calls)
    ]
    return json_reply(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": content,
            "stop_reason": stop or ("tool_use" if calls else "end_turn"),
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def anthropic_stream(
    text: Sequence[str] = (),
    calls: Sequence[tuple[str, list[str]]] = (),
    usage: tuple[int, int] = (13, 5),
    pause: float = 0.0,
    stop: str | None = None,
) -> Reply:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": usage[0], "output_tokens": 1},
        },
    }
    events: list[tuple[str | None, object]] = [("message_start", start)]
    index = 0
    if text:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
            for piece in text
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for name, pieces in calls:
        block = {"type": "tool_use", "id": f"toolu_{index}", "name": name, "input": {}}
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
            for piece in pieces
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop or ("tool_use" if calls else "end_turn")},
        "usage": {"output_tokens": usage[1]},
    }
    events += [("message_delta", delta), ("message_stop", {"type": "message_stop"})]
    return sse_reply(events, pause)


def anthropic_error(status: int, message: str, kind: str = "invalid_request_error") -> Reply:
    return json_reply(
        {"type": "error", "error": {"type": kind, "message": message}},
        status,
        {"retry-after": "2"} if status == 429 else None,
    )


# --- Bedrock Converse --------------------------------------------------------------


def bedrock_response(
    text: str = "",
    calls: Sequence[tuple[str, dict[str, Any]]] = (),
    usage: tuple[int, int] = (17, 3),
    stop: str | None = None,
) -> Reply:
    content: list[dict[str, Any]] = [{"text": text}] if text else []
    content += [
        {"toolUse": {"toolUseId": f"tooluse_{i}", "name": n, "input": a}}
        for i, (n, a) in enumerate(calls)
    ]
    return json_reply(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop or ("tool_use" if calls else "end_turn"),
            "usage": {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": 0},
            "metrics": {"latencyMs": 1},
        }
    )


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", 7, len(raw_value))
        + raw_value
    )


def event_message(headers: dict[str, str], payload: object) -> bytes:
    """One message of the AWS event stream encoding (what botocore parses)."""
    data = json.dumps(payload).encode()
    head = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(head) + len(data) + 4
    prelude = struct.pack("!II", total, len(head))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    message = prelude + head + data
    return message + struct.pack("!I", binascii.crc32(message))


def _event(kind: str, payload: object) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return event_message(headers, payload)


def bedrock_exception(kind: str, message: str) -> bytes:
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return event_message(headers, {"message": message})


def bedrock_stream(
    text: Sequence[str] = (),
    calls: Sequence[tuple[str, list[str]]] = (),
    usage: tuple[int, int] = (17, 3),
    pause: float = 0.0,
    stop: str | None = None,
    tail: Sequence[bytes] = (),
) -> Reply:
    events = [_event("messageStart", {"role": "assistant"})]
    index = 0
    if text:
        events += [
            _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
            for piece in text
        ]
        events.append(_event("contentBlockStop", {"contentBlockIndex": 0}))
        index += 1
    for name, pieces in calls:
        start = {"toolUse": {"toolUseId": f"tooluse_{index}", "name": name}}
        events.append(_event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        events += [
            _event(
                "contentBlockDelta",
                {"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}},
            )
            for piece in pieces
        ]
        events.append(_event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    events += list(tail)
    if not tail:
        reason = stop or ("tool_use" if calls else "end_turn")
        events.append(_event("messageStop", {"stopReason": reason}))
        metadata = {
            "usage": {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": 0},
            "metrics": {"latencyMs": 1},
        }
        events.append(_event("metadata", metadata))
    return Reply(200, events, {"Content-Type": "application/vnd.amazon.eventstream"}, pause)


def bedrock_error(status: int, kind: str, message: str) -> Reply:
    return json_reply({"message": message}, status, {"x-amzn-ErrorType": kind})
