"""A profile's `redaction: allow_pii`: the screens of its missions leave the
named kinds of PII as written in every crossing, and mask everything else as
before (other PII, secret-shaped strings, values issued to the mission). Only
PII rules may be named, and a mission cannot name any."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sealed.audit import AuditLog
from sealed.identity.backend import SecretValue
from sealed.identity.profiles import Profile, load_profile
from sealed.models import (
    Message,
    MissionSpec,
    ModelReply,
    ModelRequest,
    ModelScript,
    ModelSpec,
    ToolCall,
)
from sealed.redaction.patterns import find_secrets, finder
from sealed.redaction.screen import Screens
from sealed.spec_loader import SpecError
from sealed.testing import StaticRedactionKey

EMAIL = "carol.jones@northwind-bank.co.uk"
IBAN = "GB29NWBK60161331926819"
PHONE = "+44 20 7946 0958"
AWS_KEY = "AKIAHBHTWIXD7LN44NF2"  # a secret rule: never unmasked
ISSUED = "svc-robot@northwind-bank.co.uk"  # issued to the mission, shaped like an email
TEXT = f"pay {IBAN} for {EMAIL}, call {PHONE}, key {AWS_KEY}, bot {ISSUED}"

PAYMENTS = Profile.model_validate(
    {"name": "payments", "redaction": {"allow_pii": ["email", "iban"]}}
)
DEFAULT = Profile(name="default")


async def crossings(profile: Profile, tmp_path: Path) -> list[str]:
    """TEXT through every crossing of one screen opened for `profile`."""
    screens = Screens(StaticRedactionKey(b"p" * 32), AuditLog(tmp_path / "audit.log"))
    async with screens.open(
        "m-1", [], where="tool_output", tool="bank.pay", allow_pii=profile.redaction.allow_pii
    ) as screen:
        screen.issue({"mailbox": SecretValue("mailbox", ISSUED)})
        reply = screen.reply_in(
            ModelReply(
                content=TEXT,
                tool_calls=[ToolCall(id="c", name="bank.pay", arguments={"to": [{"memo": TEXT}]})],
            )
        )
        prompt = screen.prompt_out(
            ModelRequest(
                mission_id="m-1",
                turn=1,
                model=ModelSpec(script=ModelScript.model_validate({"turns": [{"final": "x"}]})),
                system_prompt="s",
                goal=TEXT,
                conversation=[Message(role="tool", content=TEXT)],
                tools=[],
            )
        )
        message, details = screen.error(f"refused: {TEXT}", [{"why": TEXT}])
        return [
            screen.tool_output(TEXT).text,
            reply.content,
            reply.tool_calls[0].arguments["to"][0]["memo"],
            prompt.goal,
            prompt.conversation[0].content,
            message,
            details[0]["why"],
        ]


async def test_allowed_pii_passes_every_crossing_and_nothing_else_does(tmp_path):
    for text in await crossings(PAYMENTS, tmp_path):
        assert EMAIL in text and IBAN in text, text
        assert "[REDACTED:phone-number]" in text and PHONE not in text
        assert "[REDACTED:aws-access-key-id]" in text and AWS_KEY not in text
        assert "[REDACTED:mailbox]" in text and ISSUED not in text


async def test_the_default_profile_masks_all_pii(tmp_path):
    for text in await crossings(DEFAULT, tmp_path):
        assert not [v for v in (EMAIL, IBAN, PHONE, AWS_KEY, ISSUED) if v in text], text
        for label in ("email", "iban", "phone-number", "aws-access-key-id", "mailbox"):
            assert f"[REDACTED:{label}]" in text


def test_the_finder_is_one_per_set_and_never_skips_a_secret_rule():
    assert finder(frozenset()) is find_secrets  # the default's hot path is unchanged
    assert finder(frozenset({"email", "iban"})) is finder(frozenset({"iban", "email"}))
    assert [f.rule for f in finder(frozenset({"email"}))(TEXT)] == [
        "iban",
        "phone-number",
        "aws-access-key-id",
    ]
    with pytest.raises(ValueError, match="aws-access-key-id"):
        finder(frozenset({"aws-access-key-id"}))


def profile_file(tmp_path: Path, allow_pii: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(f"name: payments\nredaction:\n  allow_pii: {allow_pii}\n", encoding="utf-8")
    return path


def test_the_profile_yaml_loads(tmp_path):
    profile = load_profile(profile_file(tmp_path, "[email, iban]"))
    assert profile.redaction.allow_pii == ["email", "iban"]
    assert DEFAULT.redaction.allow_pii == []


PII = "the PII rules are credit-card, email, iban, phone-number, us-ssn"


@pytest.mark.parametrize(
    ("allow_pii", "expected"),
    [
        ("[emails]", f"'emails' is not a rule; {PII}"),
        ("[aws-access-key-id]", f"'aws-access-key-id' is a secret rule, always masked; {PII}"),
        ("[iban, email, iban]", "'iban' is listed more than once"),
    ],
)
def test_only_pii_rules_may_be_allowed_once(tmp_path, allow_pii, expected):
    with pytest.raises(SpecError) as refused:
        load_profile(profile_file(tmp_path, allow_pii))
    assert f"redaction.allow_pii: {expected}" in str(refused.value)


def test_a_mission_cannot_declare_redaction():
    with pytest.raises(ValidationError, match="redaction"):
        MissionSpec.model_validate(
            {
                "name": "m",
                "profile": "payments",
                "goal": "g",
                "model": {"script": {"turns": [{"final": "x"}]}},
                "redaction": {"allow_pii": ["email"]},
            }
        )
