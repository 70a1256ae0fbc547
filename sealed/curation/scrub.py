"""Redaction once more, on the way into a training file: the activities
redacted every text as it crossed, and an export does it again with today's
rules, then checks the finished line as a whole, so that nothing a worker
missed (an older rule set, a value split across fields, a name the model
chose) reaches a fine-tune.

Stricter than a mission's screens: every PII rule masks, whatever the
profile let its missions process (`redaction.allow_pii`), since a training
set outlives the purpose the profile allowed them for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sealed.models import Fingerprint, Message, OriginalPrompt, ToolCall
from sealed.redaction import KnownValues, Redactor, find_secrets, mission_key


class Scrubber:
    """For one mission: its known values (the fingerprints of what it was
    issued, under its key) and every pattern rule."""

    def __init__(self, master: bytes, mission_id: str, known: Sequence[Fingerprint]) -> None:
        known_values = KnownValues(mission_key(master, mission_id), known)
        self._redactor = Redactor(known_values, find_secrets)
        self.redactions = 0

    def text(self, text: str) -> str:
        result = self._redactor.redact(text)
        self.redactions += len(result.findings)
        return result.text

    def value(self, value: Any) -> Any:
        """Every string of a JSON-shaped value (a call's arguments). Keys are
        left as they are: the check of the whole line sees them."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def prompt(self, prompt: OriginalPrompt) -> OriginalPrompt:
        return prompt.model_copy(
            update={
                "system_prompt": self.text(prompt.system_prompt),
                "goal": self.text(prompt.goal),
            }
        )

    def message(self, message: Message) -> Message:
        """Its text and its calls' arguments. Names and ids stay as written,
        since rewriting them would break the record; the line check drops a
        record with anything in them."""
        calls = [self._call(call) for call in message.tool_calls]
        return message.model_copy(
            update={"content": self.text(message.content), "tool_calls": calls}
        )

    def _call(self, call: ToolCall) -> ToolCall:
        return call.model_copy(update={"arguments": self.value(call.arguments)})

    def leftovers(self, line: str) -> list[str]:
        """What the finished line still holds, by rule or secret name (never a
        value): empty for a line that may be written."""
        return sorted({finding.rule for finding in self._redactor.spans(line)})


def as_chosen(conversation: Sequence[Message]) -> str:
    """What the model chose that no redaction rewrites (call names and ids, the
    ids tool messages answer, the keys of call arguments), as it wrote them, one
    per line: for `Scrubber.leftovers`. In the finished line they are in other
    forms than written: names as function names (dots made dashes), ids
    escaped once more (the line's JSON) and keys twice (the arguments' text,
    then the line), where a value the model wrote escaped (`db\\u002e...`)
    is no form the line check decodes (it decodes one level)."""
    return "\n".join(
        text
        for message in conversation
        for text in (
            *([message.tool_call_id] if message.tool_call_id else []),
            *(t for call in message.tool_calls for t in (call.name, call.id)),
            *(key for call in message.tool_calls for key in _keys(call.arguments)),
        )
    )


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)
