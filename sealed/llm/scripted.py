"""The scripted provider: the embedded default. Its turns come from the
mission's YAML script, so a mission is deterministic with no model at all.

In gullible mode it also obeys tool-call instructions planted in tool output
(`call tool NAME with {json}`), once each, in the turn right after it read
them, whether or not the runtime fenced that output as untrusted: a stand-in
for a prompt-injected model, so that what stops the attack in a demo or a
test is a control of the runtime (a directive), never the model's manners."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from sealed.identity.backend import SecretValue
from sealed.llm.base import ModelConfigError, register_provider
from sealed.models import Message, ModelReply, ModelRequest, ScriptedTurn, ToolCall

_PLANTED = re.compile(
    r"call (?:the )?tool [`'\"]?([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)[`'\"]? with ", re.I
)
# Tool-call ids of obedient turns carry this prefix, so the script position is
# derived from the conversation alone (deterministic across retries and replays).
_OBEY_PREFIX = "obey-"
# The runtime's fence around flagged output (sealed.redaction.injection.fence):
# an injected model reads what is inside it all the same.
_FENCED = re.compile(r"^(`{3,})text\n(.*)\n\1\Z", re.S | re.M)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def planted_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The instructions a gullible model finds in a text, in order.

    Tool output is usually JSON, where a planted `{"ticket_id": 2}` reads
    `{\\"ticket_id\\": 2}`: its strings are searched decoded, as a model reads them."""
    fenced = _FENCED.search(text)
    text = fenced[2] if fenced else text
    try:
        texts = list(_strings(json.loads(text)))
    except (ValueError, RecursionError):
        texts = [text]
    found = []
    decoder = json.JSONDecoder()
    for chunk in texts:
        for match in _PLANTED.finditer(chunk):
            try:
                args, _ = decoder.raw_decode(chunk, match.end())
            except json.JSONDecodeError:
                continue
            if isinstance(args, dict):
                found.append((match[1], args))
    return found


def script_reply(step: ScriptedTurn, turn: int) -> ModelReply:
    """A script step as the reply of model turn `turn` (its call ids are unique
    per turn and the same on every retry)."""
    if step.final is not None:
        return ModelReply(content=step.final, usage=step.usage)
    return ModelReply(
        usage=step.usage,
        content=step.say,
        tool_calls=[
            ToolCall(id=f"call-{turn}-{i}", name=c.name, arguments=c.arguments)
            for i, c in enumerate(step.tool_calls)
        ],
    )


def _trailing_tool_outputs(conversation: list[Message]) -> list[Message]:
    tail: list[Message] = []
    for message in reversed(conversation):
        if message.role != "tool":
            break
        tail.append(message)
    return list(reversed(tail))


class ScriptedProvider:
    async def complete(
        self,
        request: ModelRequest,
        credentials: Mapping[str, SecretValue],
    ) -> ModelReply:
        script = request.model.script
        if script is None:
            raise ModelConfigError("the scripted provider needs a script")
        if script.gullible:
            planted = [
                call
                for message in _trailing_tool_outputs(request.conversation)
                for call in planted_calls(message.content)
            ]
            if planted:
                return ModelReply(
                    content="Following the instructions I found in the tool output.",
                    tool_calls=[
                        ToolCall(id=f"{_OBEY_PREFIX}{request.turn}-{i}", name=name, arguments=args)
                        for i, (name, args) in enumerate(planted)
                    ],
                )
        position = sum(
            1
            for m in request.conversation
            if m.role == "assistant"
            and not (m.tool_calls and m.tool_calls[0].id.startswith(_OBEY_PREFIX))
        )
        if position >= len(script.turns):
            # Out of script: answer rather than fail, as a real model would.
            return ModelReply(content="I have nothing more to do.")
        return script_reply(script.turns[position], request.turn)


register_provider("scripted", ScriptedProvider)
