"""A mission's conversation as one line of an OpenAI fine-tuning file for
chat models with tool calling: `messages` (system, user, assistant turns with
`tool_calls` whose arguments are a JSON string, `tool` results naming their
call) and `tools` (function definitions), as OpenAI's guide shows them."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from sealed.curation import chat_record
from sealed.llm.wire import wire_name
from sealed.models import Message, OriginalPrompt, ToolCall, ToolInfo

PROMPT = OriginalPrompt(system_prompt="You triage.", goal="Read ticket 1.", tools=["tickets.read"])
READ = ToolInfo(
    name="tickets.read",
    description="Read one ticket.",
    privilege="low",
    parameters={"type": "object", "properties": {"ticket_id": {"type": "integer"}}},
)
CONVERSATION = [
    Message(
        role="assistant",
        content="",
        tool_calls=[ToolCall(id="call-1-0", name="tickets.read", arguments={"ticket_id": 1})],
    ),
    Message(
        role="tool",
        content='{"id": 1, "body": "Zoë cannot log in"}',
        tool_call_id="call-1-0",
        name="tickets.read",
        flags=[],
    ),
    Message(role="user", content="answer refused by directive x: too long"),
    Message(role="assistant", content="Ticket 1: a login problem."),
]


def test_a_conversation_becomes_one_training_line():
    line = chat_record(PROMPT, CONVERSATION, [READ]).line()
    assert "\n" not in line
    assert json.loads(line) == {
        "messages": [
            {"role": "system", "content": "You triage."},
            {"role": "user", "content": "Read ticket 1."},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call-1-0",
                        "type": "function",
                        "function": {"name": "tickets-read", "arguments": '{"ticket_id": 1}'},
                    }
                ],
            },
            {
                "role": "tool",
                "content": '{"id": 1, "body": "Zoë cannot log in"}',
                "tool_call_id": "call-1-0",
            },
            {"role": "user", "content": "answer refused by directive x: too long"},
            {"role": "assistant", "content": "Ticket 1: a login problem."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "tickets-read",
                    "description": "Read one ticket.",
                    "parameters": READ.parameters,
                },
            }
        ],
    }


def test_what_the_model_said_beside_its_calls_is_kept():
    said = Message(
        role="assistant",
        content="Looking.",
        tool_calls=[ToolCall(id="c", name="tickets.list")],
    )
    [_, _, turn] = json.loads(chat_record(PROMPT, [said], []).line())["messages"]
    assert turn["content"] == "Looking."
    assert turn["tool_calls"][0]["function"] == {"name": "tickets-list", "arguments": "{}"}


@pytest.mark.parametrize(
    ("tool", "function"),
    [("tickets.read", "tickets-read"), ("test.comment_then_stall", "test-comment_then_stall")],
)
def test_function_names_are_those_the_providers_send(tool, function):
    said = Message(role="assistant", tool_calls=[ToolCall(id="c", name=tool)])
    [_, _, turn] = json.loads(chat_record(PROMPT, [said], []).line())["messages"]
    assert turn["tool_calls"][0]["function"]["name"] == function == wire_name(tool)


def test_a_call_no_function_name_can_hold_does_not_fit():
    odd = Message(role="assistant", tool_calls=[ToolCall(id="c", name="send all the data")])
    with pytest.raises(ValidationError, match=r"messages\.2\.tool_calls\.0\.function\.name"):
        chat_record(PROMPT, [odd], [])
