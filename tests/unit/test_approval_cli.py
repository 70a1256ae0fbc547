"""`sealed keys | pending | approve | deny` without servers: argument errors
caught before anything is reached, what `--print-json` prints (a decision
that verifies, and a stock `temporal` command that sends it through the codec
server without holding its token), refusals reported with their reason. The
same commands against a real stack: tests/integration/test_approval_cli.py."""

from __future__ import annotations

import json
import os
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sealed import missions
from sealed.approvals import (
    ApprovalRequest,
    ApprovalState,
    Decision,
    argument_digest,
    check,
)
from sealed.approvals.keys import fingerprint, new_key, public_text, read_key, write_key
from sealed.cli import app

MISSION = "mission-demo-1a2b3c4d"
ARGUMENTS = {"ticket": "T-1", "body": "It's refunded \x1b[2K \u202eesrever"}


def request(**changes: Any) -> ApprovalRequest:
    fields: dict[str, Any] = {
        "id": "approval-call-1-0",
        "mission_id": MISSION,
        "call_id": "call-1-0",
        "tool": "tickets.comment",
        "privilege": "high",
        "arguments": ARGUMENTS,
        "digest": argument_digest(MISSION, "call-1-0", "tickets.comment", ARGUMENTS),
        "approvers": ["alice", "bob@example.com"],
        "quorum": 2,
        "deadline": datetime(2030, 1, 1, 12, 0, tzinfo=UTC),
        "on_timeout": "deny",
        **changes,
    }
    return ApprovalRequest(**fields)


@pytest.fixture
def stackless(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No stack and no Temporal: `connect` hands back a stand-in client, the
    mission's approvals are `STATES`, and decisions sent are kept. The
    default settings: none a session's stack (integration) put in the environment."""
    for name in [n for n in os.environ if n.startswith("SEALED_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path))

    async def connect(_: Any) -> object:
        return object()

    monkeypatch.setattr("sealed.cli.approvals.connect", connect)
    return tmp_path


STATES: list[ApprovalState] = []
SENT: list[Decision] = []


@pytest.fixture
def mission(monkeypatch: pytest.MonkeyPatch, stackless: Path) -> list[ApprovalState]:
    STATES[:] = [ApprovalState(request=request())]
    SENT.clear()

    async def approvals(_: Any, mission_id: str) -> list[ApprovalState]:
        assert mission_id == MISSION
        return STATES

    async def decide(_: Any, decision: Decision) -> str:
        SENT.append(decision)
        return "pending"

    monkeypatch.setattr(missions, "approvals", approvals)
    monkeypatch.setattr(missions, "decide", decide)
    return STATES


@pytest.fixture
def alice(stackless: Path) -> Path:
    path = stackless / "alice.key"
    write_key(path, new_key())
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def approve(key: Path, *extra: str, who: str = "alice") -> Any:
    return run("approve", MISSION, "approval-call-1-0", "--as", who, "--key", str(key), *extra)


def verified(decision: Decision, key: Path) -> None:
    check(
        decision,
        STATES[0],
        mission_id=MISSION,
        approver_keys={decision.approver: public_text(read_key(key))},
        now=datetime.now(UTC),
        used=(),
    )


# --- argument errors, before anything is reached -------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["approve", MISSION, "approval-call-1-0", "--key", "k"], "--as"),
        (["approve", MISSION, "approval-call-1-0", "--as", "alice"], "--key"),
        (["approve", "a/../b", "r", "--as", "alice", "--key", "k"], "not a mission id"),
        (["approve", MISSION, "r", "--as", "Alice", "--key", "k"], "not a approver name"),
        (["approve", MISSION, "r", "--as", "../alice", "--key", "k"], "not a approver name"),
        (["deny", MISSION, "r", "--as", "alice", "--key", "k"], "--reason"),
        (["keys", "new", "Alice"], "not a approver name"),
        (["keys", "register", "alice", "ssh-ed25519 AAAA"], "not a public key"),
        (["keys", "register", "alice", "ed25519:c2hvcnQ="], "not a public key"),
    ],
)
def test_bad_arguments(stackless, args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_missing_or_bad_key_file(stackless, mission):
    result = approve(stackless / "nope.key")
    assert result.exit_code == 2 and "--key: no key file" in result.output
    (stackless / "bad.key").write_text("not a key")
    result = approve(stackless / "bad.key")
    assert result.exit_code == 2 and "is not a PEM private key" in result.output
    assert not SENT


@pytest.mark.parametrize(
    "edit, message",
    [
        ("{not json", "--edit: not JSON"),
        ('["a list"]', "a JSON object"),
        ("@/nonexistent/edit.json", "--edit: cannot read"),
    ],
)
def test_a_bad_edit(alice, mission, edit, message):
    result = approve(alice, "--edit", edit)
    assert result.exit_code == 2 and message in result.output
    assert not SENT


@pytest.mark.parametrize("validity", ["forever", "0s", "2d", "-5m"])
def test_a_bad_validity(alice, mission, validity):
    result = approve(alice, "--validity", validity)
    assert result.exit_code == 2 and "--validity" in result.output


# --- what is asked and sent ----------------------------------------------------------------


def test_approve_sends_a_signed_decision_by_update(alice, mission):
    result = approve(alice)
    assert result.exit_code == 0, result.output
    [decision] = SENT
    assert decision.decision == "approve" and decision.approver == "alice"
    assert decision.digest == request().digest and decision.arguments is None
    verified(decision, alice)
    assert decision.expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    key = fingerprint(public_text(read_key(alice)))
    assert f"approved by alice (key {key}); the request is pending" in result.output


def test_approve_with_edited_arguments(alice, mission, tmp_path):
    edited = {"ticket": "T-1", "body": "We will look into it."}
    (tmp_path / "edit.json").write_text(json.dumps(edited))
    for edit in (json.dumps(edited), f"@{tmp_path / 'edit.json'}"):
        assert approve(alice, "--edit", edit).exit_code == 0
        decision = SENT.pop()
        assert decision.arguments == edited
        assert decision.digest == request().digest_for(edited)
        verified(decision, alice)


def test_deny_sends_its_reason(alice, mission):
    result = run(
        "deny", MISSION, "approval-call-1-0", "--as", "alice", "--key", str(alice), "--reason", "no"
    )
    assert result.exit_code == 0, result.output
    [decision] = SENT
    assert decision.decision == "deny" and decision.reason == "no"
    assert "denied by alice" in result.output


def test_a_refusal_is_reported_with_its_reason(alice, mission, monkeypatch):
    async def refused(_: Any, decision: Decision) -> str:
        raise missions.DecisionRefused("'alice' already approved: quorum needs another")

    monkeypatch.setattr(missions, "decide", refused)
    result = approve(alice)
    assert result.exit_code == 1
    assert "refused: 'alice' already approved: quorum needs another" in result.output


def test_what_cannot_be_decided_is_not_signed(alice, mission):
    result = run("approve", MISSION, "approval-call-9-0", "--as", "alice", "--key", str(alice))
    assert result.exit_code == 1 and "no approval request 'approval-call-9-0'" in result.output
    result = approve(alice, who="carol")
    assert result.exit_code == 1 and "'carol' may not decide" in result.output
    assert "alice, bob@example.com" in result.output
    STATES[0] = ApprovalState(request=request(), status="timed_out")
    result = approve(alice)
    assert result.exit_code == 1 and "already timed_out" in result.output
    assert not SENT


# --- --print-json ---------------------------------------------------------------------------


def test_print_json_prints_the_decision_and_the_stock_command(alice, mission, stackless):
    result = approve(alice, "--print-json")
    assert result.exit_code == 0, result.output
    assert not SENT  # printed, not sent
    line, command = result.stdout.strip().splitlines()
    assert line.isascii()
    decision = Decision.model_validate_json(line)
    verified(decision, alice)

    words = shlex.split(command)
    assert words[0].endswith("temporal") and words[1:3] == ["workflow", "signal"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    assert options["--workflow-id"] == MISSION
    assert options["--name"] == "approve"
    assert Decision.model_validate_json(options["--input"]) == decision
    assert options["--address"] == "127.0.0.1:7233"
    assert options["--namespace"] == "default"
    assert options["--codec-endpoint"] == "http://127.0.0.1:8234"
    # The token is read where it is kept when the command runs, never printed.
    token_file = (stackless / "codec-token").absolute()
    assert options["--codec-auth"] == f"Bearer $(cat {token_file})"
    assert f"no codec token at {token_file}" in result.stderr  # none in this data dir
    token_file.write_text("codec-token-value-12345")
    result = approve(alice, "--print-json")
    assert "codec-token-value-12345" not in result.output and not result.stderr


def test_print_json_of_a_deny_names_the_deny_signal(alice, mission):
    result = run(
        "deny", MISSION, "approval-call-1-0", "--as", "alice", "--key", str(alice),
        "--reason", "won't: it's not the customer's", "--print-json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _, command = result.stdout.strip().splitlines()
    options = dict(zip(shlex.split(command)[3::2], shlex.split(command)[4::2], strict=True))
    assert options["--name"] == "deny"
    decision = Decision.model_validate_json(options["--input"])
    assert decision.reason == "won't: it's not the customer's"
    verified(decision, alice)


def test_print_json_with_the_codec_token_in_the_environment(alice, mission, monkeypatch):
    monkeypatch.setenv("SEALED_CODEC_TOKEN", "codec-token-value-12345")
    result = approve(alice, "--print-json")
    assert result.exit_code == 0, result.output
    assert "codec-token-value-12345" not in result.output
    assert result.stdout.rstrip().endswith('--codec-auth "Bearer $SEALED_CODEC_TOKEN"')
    assert not result.stderr


# --- pending ---------------------------------------------------------------------------------


def test_pending_shows_what_an_approver_decides_on(stackless, monkeypatch):
    waiting = ApprovalState(
        request=request(tool="tickets.comment", escalated=True), approved_by=["alice"]
    )

    async def pending(_: Any, limit: int) -> tuple[list[ApprovalState], dict[str, str]]:
        return [waiting], {"mission-other-00000000": "no worker"}

    monkeypatch.setattr(missions, "pending_approvals", pending)
    result = run("pending")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"{MISSION}  approval-call-1-0" in out
    assert "tickets.comment (high)" in out
    assert "1 of 2 approvals (alice)" in out
    assert "alice, bob@example.com" in out
    assert "2030-01-01 12:00:00" in out and "then deny, escalated" in out
    # shown, not obeyed: JSON escapes control characters, bidi overrides are masked
    assert "\x1b" not in out and "\\u001b[2K" in out
    assert "\u202e" not in out and "\ufffdesrever" in out
    assert "mission-other-00000000: not answering (no worker)" in out


def test_pending_with_nothing_waiting(stackless, monkeypatch):
    async def pending(_: Any, limit: int) -> tuple[list[ApprovalState], dict[str, str]]:
        return [], {}

    monkeypatch.setattr(missions, "pending_approvals", pending)
    result = run("pending")
    assert result.exit_code == 0 and "no approval requests waiting" in result.output


# --- keys --------------------------------------------------------------------------------------


class FakeAdmin:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def call(self, what: str, fn: Any) -> Any:
        return fn(None)

    def approver(self, name: str) -> str | None:
        return self.keys.get(name)

    def register_approver(self, name: str, public: str, *, replace: bool = False) -> bool:
        self.keys[name] = public
        return True


def test_keys_new_without_registering(stackless):
    result = run("keys", "new", "alice@example.com", "--no-register")
    assert result.exit_code == 0, result.output
    path = stackless / "approvers" / "alice@example.com.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (stackless / "approvers").stat().st_mode & 0o777 == 0o700
    public = public_text(read_key(path))
    assert f"public key:  {public}" in result.output
    assert f"fingerprint: {fingerprint(public)}" in result.output
    assert "BEGIN" not in result.output and "not registered" in result.output
    again = run("keys", "new", "alice@example.com", "--no-register")
    assert again.exit_code == 2 and "exists: not overwriting" in again.output
    assert public_text(read_key(path)) == public


def test_keys_new_registers(stackless, monkeypatch):
    operator = FakeAdmin()
    monkeypatch.setattr("sealed.cli.keys.admin", lambda _: operator)
    result = run("keys", "new", "bob", "--key-file", str(stackless / "b.key"))
    assert result.exit_code == 0, result.output
    assert operator.keys["bob"] == public_text(read_key(stackless / "b.key"))
    assert "registered approver 'bob'" in result.output
    # A name registered already keeps its key, and no file is made.
    result = run("keys", "new", "bob", "--key-file", str(stackless / "b2.key"))
    assert result.exit_code == 1 and "registered with another key already" in result.output
    assert not (stackless / "b2.key").exists()
