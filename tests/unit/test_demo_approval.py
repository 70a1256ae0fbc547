"""The demo's approval without servers: the demo approver's key (made once,
0600, reused), the demo profile holding the comment for it, `sealed demo`
refusing to run where it could not ask (no terminal, no --yes) or where the
approver would be the submitter, and the approval trail it prints."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sealed.approvals.keys import ApproverKeyError, public_text
from sealed.audit import AuditRecord
from sealed.cli import app
from sealed.cli.audit import approval_trail, describe_record
from sealed.config import Settings
from sealed.demo import (
    DEMO_APPROVER,
    DEMO_MISSION,
    EXAMPLE_PROFILES,
    demo_key,
    demo_key_file,
)
from sealed.identity.profiles import load_profile
from sealed.spec_loader import load_mission


def test_the_demo_key_is_made_once_private_and_reused(tmp_path: Path):
    with pytest.raises(ApproverKeyError, match="no key file"):
        demo_key(tmp_path)
    made = demo_key(tmp_path, create=True)
    path = demo_key_file(tmp_path)
    assert path == tmp_path / "approvers" / "demo-approver.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    again = demo_key(tmp_path, create=True)
    assert public_text(again) == public_text(made)
    path.chmod(0o644)  # restored from a backup with looser modes
    assert public_text(demo_key(tmp_path)) == public_text(made)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_demo_profile_holds_the_comment_for_the_demo_approver():
    profile = load_profile(EXAMPLE_PROFILES / "support-agent.yaml")
    spec = load_mission(DEMO_MISSION)
    policy = profile.approvals.tightened(spec.approvals)
    assert policy.approvers == [DEMO_APPROVER] and policy.quorum_for("high") == 1
    assert "tickets.comment" in spec.tools
    comment = {"ticket_id": 1, "body": "Triage: identity team"}
    assert policy.needs_approval("tickets.comment", "high", comment)
    for tool in ("tickets.list", "tickets.read"):
        assert not policy.needs_approval(tool, "low", {})


def test_the_operator_is_never_the_demo_approver_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SEALED_OPERATOR", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "demo-approver")
    assert Settings().operator == "operator"
    monkeypatch.setattr(getpass, "getuser", lambda: "Alice")
    assert Settings().operator == "alice"


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SEALED_OPERATOR", raising=False)
    return tmp_path / "data"


def test_demo_without_a_terminal_or_yes_says_to_pass_yes(no_stack: Path):
    done = CliRunner().invoke(app, ["demo"], input="")
    assert done.exit_code == 2
    assert "pass --yes" in done.output and "approve? [y/N]" in done.output
    assert not no_stack.exists()  # no stack started, nothing submitted


def test_demo_refuses_the_demo_approver_as_submitter(
    no_stack: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SEALED_OPERATOR", DEMO_APPROVER)
    done = CliRunner().invoke(app, ["demo", "--yes"])
    assert done.exit_code == 2
    assert "may not approve" in done.output and "SEALED_OPERATOR" in done.output
    assert not no_stack.exists()


def record(seq: int, kind: str, **fields: object) -> AuditRecord:
    return AuditRecord.model_validate(
        {
            "seq": seq,
            "ts": f"2030-01-01T00:00:0{seq}Z",
            "prev": "0" * 64,
            "hash": "0" * 64,
            "kind": kind,
            "mission_id": "mission-ticket-triage-1a2b3c4d",
            "tool": "tickets.comment",
            **fields,
        }
    )


def test_the_approval_trail_runs_request_decision_issue_revoke():
    request = {"request": "approval-call-4-0", "digest": "ab" * 32}
    mine = {"approval": "approval-call-4-0"}
    records = [
        record(0, "prompt.pinned", tool=None),
        record(1, "approval.requested", details=request),
        record(2, "approval.notified", details={"request": "approval-call-4-0"}),
        record(3, "approval.rejected", actor="mallory", details=request, outcome="rejected"),
        record(
            4,
            "approval.decided",
            actor=DEMO_APPROVER,
            details={**request, "decision": "approve", "key": "cd3612f5209a599d"},
        ),
        record(5, "credential.issued", secret="tickets_token", lease_id="L1", details=mine),
        record(6, "credential.issued", secret="other", lease_id="L9"),  # not this approval's
        record(7, "credential.used", secret="tickets_token", lease_id="L1", details=mine),
        record(8, "credential.revoked", secret="tickets_token", lease_id="L1", details=mine),
    ]
    trail = approval_trail(records)
    assert trail == [
        "approval-call-4-0  approval.requested  tickets.comment digest abababababababab…",
        f"approval-call-4-0  approval.decided    approve by {DEMO_APPROVER} (key cd3612f5209a599d)",
        "approval-call-4-0  credential.issued   tickets_token lease L1 (ok)",
        "approval-call-4-0  credential.revoked  tickets_token lease L1 (ok)",
    ]
    assert approval_trail(records[:1]) == []
    # Every record says who acted and which approval it belongs to.
    assert describe_record(records[4]).endswith(f"by {DEMO_APPROVER}  request approval-call-4-0")
    assert describe_record(records[5]).endswith("approval approval-call-4-0")
    assert describe_record(records[0]).endswith("ok  -")
