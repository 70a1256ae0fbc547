"""The OpenAI fine-tuning file for chat models with tool calling: one JSON
object per line, `{"messages": [...], "tools": [...]}`. The system prompt and
the goal open the conversation; an assistant turn carries its calls as
`tool_calls` (arguments as a JSON string); each call's result follows as a
`tool` message naming the call.

OpenAI function names are `[a-zA-Z0-9_-]{1,64}`, with no dot: a Sealed tool
(`tickets.read`) is named with a dash instead (`tickets-read`). A tool name
holds no dash, so the mapping is one to one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field

from sealed.llm.wire import wire_name
from sealed.models import Message, OriginalPrompt, ToolCall, ToolInfo
from sealed.types import Strict

FunctionName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]


class FunctionCall(Strict):
    name: FunctionName
    arguments: str = Field(description="the call's arguments as a JSON text")


class ChatToolCall(Strict):
    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(Strict):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = Field(default=None, description="absent on a turn of calls only")
    tool_calls: list[ChatToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDef(Strict):
    name: FunctionName
    description: str
    parameters: dict[str, Any]


class ChatTool(Strict):
    type: Literal["function"] = "function"
    function: FunctionDef


class ChatRecord(Strict):
    """One line of the file: one mission's conversation."""

    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ChatTool] = Field(default_factory=list)

    def line(self) -> str:
        return self.model_dump_json(exclude_none=True)


def _call(call: ToolCall) -> dict[str, Any]:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return {"id": call.id, "function": {"name": wire_name(call.name), "arguments": arguments}}


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "content": message.content, "tool_call_id": message.tool_call_id}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [_call(call) for call in message.tool_calls],
        }
    return {"role": message.role, "content": message.content}


def chat_record(
    prompt: OriginalPrompt, conversation: Sequence[Message], tools: Sequence[ToolInfo]
) -> ChatRecord:
    """The conversation as the model had it: its instructions, then every
    turn. ValidationError (located in the record) when it does not fit the
    format: a call the model named with what no function name may hold."""
    return ChatRecord.model_validate(
        {
            "messages": [
                {"role": "system", "content": prompt.system_prompt},
                {"role": "user", "content": prompt.goal},
                *(_message(message) for message in conversation),
            ],
            "tools": [
                {
                    "function": {
                        "name": wire_name(tool.name),
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }
                }
                for tool in tools
            ],
        }
    )
