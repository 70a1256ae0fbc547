"""Redaction again on the way out: a value the mission was issued (known by
its fingerprints, under the mission's key) in any encoding, secret-shaped
strings and every kind of PII are masked in every text of a record; what
is left in the finished line (in a name, a key, an id) is reported by rule
or secret name, never by value."""

from __future__ import annotations

import base64
import json

from sealed.curation import Scrubber, chat_record
from sealed.models import Message, OriginalPrompt, ToolCall
from sealed.redaction import fingerprint, mission_key

MASTER = b"m" * 32
MISSION = "mission-x-1"
TOKEN = "tk-5f0e1d2c3b4a59687766554433221100"
AWS_KEY = "AKIAHBHTWIXD7LN44NF2"
EMAIL = "carol.jones@northwind-bank.co.uk"
KNOWN = fingerprint(mission_key(MASTER, MISSION), "tickets_token", TOKEN)


def scrubber() -> Scrubber:
    return Scrubber(MASTER, MISSION, KNOWN)


def test_issued_values_in_any_encoding_secrets_and_pii_are_masked():
    scrub = scrubber()
    b64 = base64.b64encode(f"user:{TOKEN}".encode()).decode()
    text = f"token {TOKEN}, basic {b64}, key {AWS_KEY}, mail {EMAIL}"
    redacted = scrub.text(text)
    for value in (TOKEN, b64, AWS_KEY, EMAIL):
        assert value not in redacted
    assert "[REDACTED:tickets_token]" in redacted
    assert scrub.redactions == 4
    assert scrub.text(redacted) == redacted  # nothing left to redact


def test_only_the_missions_own_key_finds_its_values():
    other = Scrubber(MASTER, "mission-y-2", KNOWN)
    assert TOKEN in other.text(f"token {TOKEN}")


def test_every_text_of_a_mission_is_redacted():
    scrub = scrubber()
    prompt = scrub.prompt(OriginalPrompt(system_prompt=f"use {TOKEN}", goal=f"mail {EMAIL}"))
    call = ToolCall(id="c", name="tickets.comment", arguments={"body": [{"note": TOKEN}], "n": 1})
    said = scrub.message(Message(role="assistant", content=TOKEN, tool_calls=[call]))
    assert TOKEN not in prompt.system_prompt and EMAIL not in prompt.goal
    assert TOKEN not in said.content
    assert said.tool_calls[0].arguments == {"body": [{"note": "[REDACTED:tickets_token]"}], "n": 1}
    line = chat_record(prompt, [said], []).line()
    assert scrub.leftovers(line) == []


def test_what_redaction_cannot_rewrite_is_left_for_the_check():
    """A call's name and its arguments' keys stay as written (the record
    would not hold together otherwise): the line check finds them."""
    scrub = scrubber()
    leaked = Message(
        role="assistant",
        tool_calls=[ToolCall(id=AWS_KEY, name=f"x_{TOKEN}", arguments={EMAIL: "to"})],
    )
    line = chat_record(OriginalPrompt(system_prompt="s", goal="g"), [scrub.message(leaked)], [])
    found = scrub.leftovers(line.line())
    assert found == ["aws-access-key-id", "email", "known:tickets_token"]
    assert not any(TOKEN in name or AWS_KEY in name for name in found)


def test_a_value_escaped_inside_the_json_line_is_found():
    scrub = scrubber()
    line = json.dumps({"messages": [{"role": "tool", "content": json.dumps({"t": TOKEN})}]})
    assert scrub.leftovers(line) == ["known:tickets_token"]
