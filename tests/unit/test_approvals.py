"""Sealed IV's one check (sealed.approvals.decision.check): every way a signed
decision is refused, each leaving the request's state exactly as it was (the
check is pure: the workflow records nothing for a refused decision but the
audit event), and the decisions that count."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from sealed.approvals import (
    ApprovalRequest,
    ApprovalState,
    Decision,
    DecisionRejected,
    argument_digest,
    check,
    keys,
    sign_decision,
)
from sealed.approvals.keys import new_key, public_text

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
MISSION = "mission-demo-1a2b3c4d"
KEYS = {name: new_key() for name in ("alice", "bob", "carol", "mallory")}
# mallory has a key, but is not on any request's list.
PUBLIC = {name: public_text(key) for name, key in KEYS.items()}
ARGUMENTS: dict[str, Any] = {"ticket": "T-1", "body": "We will refund you."}
EDITED: dict[str, Any] = {"ticket": "T-1", "body": "We will look into it."}


def request(
    call_id: str = "call-1-0",
    *,
    mission_id: str = MISSION,
    arguments: dict[str, Any] | None = None,
    **changes: Any,
) -> ApprovalRequest:
    arguments = ARGUMENTS if arguments is None else arguments
    tool = changes.pop("tool", "tickets.comment")
    fields: dict[str, Any] = {
        "id": f"approval-{call_id}",
        "mission_id": mission_id,
        "call_id": call_id,
        "tool": tool,
        "privilege": "high",
        "arguments": arguments,
        "digest": argument_digest(mission_id, call_id, tool, arguments),
        "approvers": ["alice", "bob", "carol"],
        "quorum": 1,
        "deadline": NOW + timedelta(minutes=10),
        "on_timeout": "deny",
        "submitter": "carol",
        **changes,
    }
    return ApprovalRequest(**fields)


def state(req: ApprovalRequest | None = None, **changes: Any) -> ApprovalState:
    return ApprovalState(request=req or request(), **changes)


def sign(who: str, req: ApprovalRequest | None = None, **kwargs: Any) -> Decision:
    kwargs.setdefault("now", NOW)
    return sign_decision(KEYS[who], req or request(), approver=who, **kwargs)


def run(
    decision: Decision,
    st: ApprovalState | None,
    *,
    now: datetime = NOW,
    used: Collection[str] = (),
    mission_id: str = MISSION,
    keys: Mapping[str, str] = PUBLIC,
) -> None:
    check(decision, st, mission_id=mission_id, approver_keys=keys, now=now, used=used)


def refused(decision: Decision, st: ApprovalState | None, match: str | None, **kwargs: Any) -> None:
    """Refused with a reason matching `match`, and `st` untouched."""
    before = None if st is None else st.model_copy(deep=True)
    with pytest.raises(DecisionRejected, match=match):
        run(decision, st, **kwargs)
    assert st == before


# --- refused ----------------------------------------------------------------------------


def test_a_decision_for_another_mission():
    other = request(mission_id="mission-other-00000000")
    refused(sign("alice", other), state(other), "signed for mission 'mission-other-00000000'")


def test_a_decision_on_no_such_request():
    refused(sign("alice"), None, "no approval request 'approval-call-1-0'")


@pytest.mark.parametrize("status", ["approved", "denied", "timed_out", "aborted"])
def test_a_request_already_decided(status):
    refused(sign("alice"), state(status=status), f"already {status}")


def test_an_approver_not_on_the_list():
    refused(sign("mallory"), state(), "'mallory' may not decide")


def test_an_approver_not_on_the_escalated_list():
    escalated = request(approvers=["bob"], escalated=True)
    refused(sign("alice", escalated), state(escalated), "'alice' may not decide")


def test_the_submitter_may_not_approve_their_own_mission():
    refused(sign("carol"), state(), "'carol' submitted this mission")
    refused(sign("carol", decision="deny"), state(), "submitted this mission")


def test_a_signature_by_another_key():
    forged = sign_decision(KEYS["mallory"], request(), approver="alice", now=NOW)
    refused(forged, state(), "the signature is not 'alice''s")


def test_an_approver_with_no_registered_key():
    keys = {name: key for name, key in PUBLIC.items() if name != "alice"}
    refused(sign("alice"), state(), "the signature is not 'alice''s", keys=keys)


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA", PUBLIC["alice"]])
def test_a_signature_that_is_no_signature(signature):
    decision = sign("alice").model_copy(update={"signature": signature})
    refused(decision, state(), "signature")


@pytest.mark.parametrize(
    "field, value",
    [
        ("expires_at", NOW + timedelta(days=365)),
        ("decision", "deny"),
        ("reason", "changed my mind"),
        ("digest", request("call-9-0").digest),
        ("request_id", "approval-call-9-0"),
        ("approver", "bob"),  # then it is bob's signature that is missing
        ("arguments", EDITED),
        ("mission_id", "mission-other-00000000"),
    ],
)
def test_a_field_changed_after_signing(field, value):
    tampered = sign("alice").model_copy(update={field: value})
    expected = {"mission_id": "signed for mission", "request_id": "signature|signed for request"}
    refused(tampered, state(), expected.get(field, "signature"), mission_id=MISSION)


def test_a_tampered_decision_that_went_through_json():
    """The stock CLI path: a person edits the printed JSON before sending it."""
    text = sign("alice").model_dump_json().replace("2025-06-01T12:15:00Z", "2026-06-01T12:15:00Z")
    refused(Decision.model_validate_json(text), state(), "signature")


@pytest.mark.parametrize(
    "other",
    [
        request(arguments={**ARGUMENTS, "body": "Refund approved, here is the admin link."}),
        request(arguments={**ARGUMENTS, "extra": 1}),
        request(tool="tickets.close"),
    ],
    ids=["other-body", "extra-argument", "other-tool"],
)
def test_a_digest_for_other_arguments(other):
    """Signed (properly) over another version of the same request."""
    assert other.id == request().id
    refused(sign("alice", other), state(), "other arguments")


def test_a_digest_signed_over_arguments_the_decision_does_not_carry():
    """An approver's tool claims an edit, but the decision carries other arguments."""
    req = request()
    unsigned = Decision(
        mission_id=MISSION,
        request_id=req.id,
        digest=req.digest_for(EDITED),
        decision="approve",
        expires_at=NOW + timedelta(minutes=5),
        approver="alice",
        arguments={**EDITED, "body": "something else"},
    )
    decision = unsigned.model_copy(
        update={"signature": keys.sign(KEYS["alice"], unsigned.signed_bytes())}
    )
    refused(decision, state(), "other arguments")


@pytest.mark.parametrize(
    "now",
    [
        NOW + timedelta(minutes=15),
        NOW + timedelta(minutes=15, microseconds=1),
        NOW.replace(year=2030),
    ],
)
def test_an_expired_decision(now):
    refused(sign("alice"), state(), "expired at 2025-06-01T12:15:00", now=now)


def test_a_short_validity_expires_sooner():
    decision = sign("alice", validity=timedelta(seconds=30))
    run(decision, state(), now=NOW + timedelta(seconds=29))
    refused(decision, state(), "expired", now=NOW + timedelta(seconds=30))


def test_the_same_decision_replayed():
    """Quorum two: alice's approval counted once; the same signal again (the
    workflow keeps every used decision's id) is refused."""
    req = request(quorum=2)
    decision = sign("alice", req)
    run(decision, state(req))
    after = state(req, approved_by=["alice"])
    refused(decision, after, "already used", used={decision.used_id})
    # ... and so it is even if the workflow had not recorded alice yet.
    refused(decision, state(req), "already used", used={decision.used_id})


def test_a_decision_replayed_into_a_second_request():
    """The same tool with identical arguments, called again: the first call's
    approval does not release the second."""
    first, second = request("call-1-0"), request("call-2-0")
    decision = sign("alice", first)
    run(decision, state(first))
    assert second.arguments == first.arguments and second.tool == first.tool
    # (refused as signed for other arguments: the digest binds the call id)
    refused(decision, state(second), None, used={decision.used_id})
    refused(decision, state(second), None)  # not even a fresh decision for the first
    # Renaming the request it is for breaks the signature.
    renamed = decision.model_copy(update={"request_id": second.id})
    refused(renamed, state(second), "signature")


def test_the_same_approver_twice_for_a_quorum_of_two():
    req = request(quorum=2)
    first = sign("alice", req)
    again = sign("alice", req, validity=timedelta(minutes=5))  # a new decision, not a replay
    assert again.used_id != first.used_id
    refused(
        again,
        state(req, approved_by=["alice"]),
        "'alice' already approved: quorum needs another",
        used={first.used_id},
    )


def test_a_second_approver_approving_other_edited_arguments():
    req = request(quorum=2)
    agreed = state(req, approved_by=["alice"], arguments=EDITED)
    other = {**EDITED, "body": "Yet another text."}
    refused(sign("bob", req, arguments=other), agreed, "an earlier approver approved other")
    # the request's own arguments are not those alice agreed to either
    refused(sign("bob", req), agreed, "an earlier approver approved other")
    # and an edit after a plain approval is an approval of something else
    plain = state(req, approved_by=["alice"])
    refused(sign("bob", req, arguments=EDITED), plain, "an earlier approver approved other")


def test_a_deny_with_edited_arguments():
    refused(
        sign("alice", decision="deny", arguments=EDITED, reason="no"),
        state(),
        "only an approval can edit the arguments",
    )


# --- counted ----------------------------------------------------------------------------


def test_a_plain_approval():
    decision = sign("alice")
    assert decision.digest == request().digest and decision.arguments is None
    assert decision.expires_at == NOW + timedelta(minutes=15)
    st = state()
    run(decision, st)
    assert st == state()  # counting it is the workflow's business


def test_an_approval_with_edited_arguments():
    req = request()
    decision = sign("alice", req, arguments=EDITED)
    assert decision.digest == req.digest_for(EDITED) != req.digest
    assert decision.arguments == EDITED
    run(decision, state(req))


def test_a_deny_with_a_reason():
    run(sign("bob", decision="deny", reason="the customer is not entitled"), state())


def test_a_quorum_of_two_distinct_approvers():
    req = request(quorum=2)
    first = sign("alice", req)
    run(first, state(req))
    second = sign("bob", req)
    run(second, state(req, approved_by=["alice"]), used={first.used_id})


def test_a_second_approver_agreeing_to_the_same_edit():
    req = request(quorum=2)
    first = sign("alice", req, arguments=EDITED)
    agreed = state(req, approved_by=["alice"], arguments=EDITED)
    run(sign("bob", req, arguments=dict(EDITED)), agreed, used={first.used_id})


def test_a_deny_after_an_approval_counts():
    """One no is enough, even with a yes already in (the workflow decides what
    a deny does; the check lets it through)."""
    req = request(quorum=2)
    run(sign("bob", req, decision="deny"), state(req, approved_by=["alice"]))


def test_no_submitter_recorded():
    req = request(submitter=None)
    run(sign("carol", req), state(req))


def test_a_decision_survives_json_and_the_data_converter():
    """What `--print-json` prints and what the client's converter sends both
    verify after the round trip (the signature covers canonical JSON)."""
    decision = sign("alice", arguments={"ticket": "T-1", "body": "ünïcode ✓", "n": 1.5})
    run(Decision.model_validate_json(decision.model_dump_json()), state())
    converter = pydantic_data_converter.payload_converter
    [payload] = converter.to_payloads([decision])
    [back] = converter.from_payloads([payload], [Decision])
    assert back == decision
    run(back, state())
    # Another timezone's spelling of the same expiry is another signed text.
    local = decision.model_copy(
        update={"expires_at": decision.expires_at.astimezone(timezone(timedelta(hours=2)))}
    )
    refused(local, state(), "signature")


# --- the shapes -------------------------------------------------------------------------


def test_the_argument_digest_binds_every_part():
    base = argument_digest("m", "c", "t", {"a": 1, "b": [1, 2]})
    assert base == argument_digest("m", "c", "t", {"b": [1, 2], "a": 1})  # key order
    assert (
        len(
            {
                base,
                argument_digest("m2", "c", "t", {"a": 1, "b": [1, 2]}),
                argument_digest("m", "c2", "t", {"a": 1, "b": [1, 2]}),
                argument_digest("m", "c", "t2", {"a": 1, "b": [1, 2]}),
                argument_digest("m", "c", "t", {"a": 1, "b": [2, 1]}),
                argument_digest("m", "c", "t", {"a": "1", "b": [1, 2]}),
            }
        )
        == 6
    )


@pytest.mark.parametrize(
    "change",
    [
        {"digest": "ABC"},
        {"approver": "Alice"},
        {"approver": "../alice"},
        {"expires_at": datetime(2025, 6, 1, 12, 15)},  # naive
        {"decision": "maybe"},
        {"surprise": 1},
        {"reason": "x" * 2001},
    ],
)
def test_a_malformed_decision_does_not_parse(change):
    body = {**sign("alice").model_dump(mode="json"), **change}
    with pytest.raises(ValidationError):
        Decision.model_validate(body)
