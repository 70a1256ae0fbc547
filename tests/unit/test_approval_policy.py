"""Sealed IV's policy (sealed.approvals.policy): which calls wait for a human,
the quorum a call needs, a policy that could never be met refused, and a
mission that may only tighten its profile's floor (declared means enforced)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from sealed.approvals.policy import (
    ApprovalPolicy,
    ApprovalRule,
    ApprovalsSpec,
    ArgumentCondition,
)


def rule(**fields: Any) -> ApprovalRule:
    return ApprovalRule.model_validate(fields)


def policy(**fields: Any) -> ApprovalPolicy:
    fields.setdefault("approvers", ["alice", "bob"])
    return ApprovalPolicy.model_validate(fields)


# --- which calls wait ---------------------------------------------------------------


def test_no_rule_no_approval():
    empty = ApprovalPolicy()
    assert not empty.needs_approval("tickets.comment", "critical", {})


def test_by_tool():
    p = policy(required=[rule(tools=["tickets.comment"])])
    assert p.needs_approval("tickets.comment", "high", {})
    assert p.needs_approval("tickets.comment", "critical", {})
    assert not p.needs_approval("tickets.comment", "low", {})  # high and critical by default
    assert not p.needs_approval("tickets.read", "high", {})


def test_by_privilege():
    p = policy(required=[rule(privilege=["critical"])])
    assert p.needs_approval("anything.at_all", "critical", {"x": 1})
    assert not p.needs_approval("anything.at_all", "high", {"x": 1})
    every = policy(required=[rule(privilege=["low", "high", "critical"])])
    assert every.needs_approval("tickets.read", "low", {})


def test_the_default_rule_holds_every_high_call():
    p = policy(required=[rule()])
    assert p.needs_approval("http.fetch", "high", {})
    assert not p.needs_approval("http.fetch", "low", {})


def test_any_rule_suffices():
    p = policy(required=[rule(tools=["a.b"], privilege=["low"]), rule(privilege=["critical"])])
    assert p.needs_approval("a.b", "low", {})
    assert p.needs_approval("c.d", "critical", {})
    assert not p.needs_approval("c.d", "high", {})


@pytest.mark.parametrize(
    "condition, arguments, holds",
    [
        ({"argument": "ticket", "equals": "T-1"}, {"ticket": "T-1"}, True),
        ({"argument": "ticket", "equals": "T-1"}, {"ticket": "T-2"}, False),
        ({"argument": "amount", "equals": 100}, {"amount": 100}, True),
        ({"argument": "amount", "equals": 100}, {"amount": "100"}, False),
        ({"argument": "ticket", "equals": "T-1"}, {}, False),  # absent never holds
        ({"argument": "queue", "one_of": ["billing", "legal"]}, {"queue": "legal"}, True),
        ({"argument": "queue", "one_of": ["billing", "legal"]}, {"queue": "support"}, False),
        ({"argument": "to", "matches": r".+@example\.com"}, {"to": "a@example.com"}, True),
        # matched whole, not searched
        ({"argument": "to", "matches": r".+@example\.com"}, {"to": "a@example.com.evil"}, False),
        ({"argument": "to", "matches": r"example"}, {"to": "a@example.com"}, False),
        # a value that is not text is matched as its JSON
        ({"argument": "tags", "matches": r'\[.*"vip".*\]'}, {"tags": ["x", "vip"]}, True),
        ({"argument": "n", "matches": r"\d{4,}"}, {"n": 12345}, True),
        ({"argument": "n", "matches": r"\d{4,}"}, {"n": 12}, False),
    ],
)
def test_an_argument_condition(condition, arguments, holds):
    c = ArgumentCondition.model_validate(condition)
    assert c.holds(arguments) is holds
    p = policy(required=[rule(tools=["tickets.comment"], when=[condition])])
    assert p.needs_approval("tickets.comment", "high", arguments) is holds


def test_every_condition_of_a_rule_must_hold():
    p = policy(
        required=[
            rule(
                when=[
                    {"argument": "queue", "equals": "billing"},
                    {"argument": "amount", "one_of": [500, 1000]},
                ]
            )
        ]
    )
    assert p.needs_approval("refund.issue", "high", {"queue": "billing", "amount": 1000})
    assert not p.needs_approval("refund.issue", "high", {"queue": "billing", "amount": 5})
    assert not p.needs_approval("refund.issue", "high", {"queue": "support", "amount": 1000})


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"argument": "x"}, "exactly one of"),
        ({"argument": "x", "equals": 1, "one_of": [1]}, "exactly one of"),
        ({"argument": "x", "equals": 1, "matches": "1"}, "exactly one of"),
        ({"argument": "x", "matches": "(unclosed"}, "not a regex"),
        ({"argument": "", "equals": 1}, "at least 1 character"),
        ({"argument": "x", "equals": 1, "typo": True}, "Extra inputs"),
    ],
)
def test_a_malformed_condition(condition, message):
    with pytest.raises(ValidationError, match=message):
        ArgumentCondition.model_validate(condition)


def test_a_malformed_rule():
    with pytest.raises(ValidationError):
        rule(tools=["Not A Tool"])
    with pytest.raises(ValidationError):
        rule(privilege=["extreme"])


# --- quorum -------------------------------------------------------------------------------


def test_quorum_defaults():
    p = policy(required=[rule()])
    assert p.quorum_for("high") == 1
    assert p.quorum_for("low") == 1
    assert p.quorum_for("critical") == 2


def test_an_explicit_quorum_holds_for_every_level():
    one = policy(required=[rule(privilege=["critical"])], approvers=["alice"], quorum=1)
    assert one.quorum_for("critical") == 1
    three = policy(required=[rule()], approvers=["a", "b", "c"], quorum=3)
    assert three.quorum_for("high") == three.quorum_for("critical") == 3


# --- a policy that cannot be met is refused ------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"required": [{}], "approvers": []}, "no approver is named"),
        ({"required": [{}], "on_timeout": "escalate"}, "escalate needs escalate_to"),
        ({"required": [{}], "escalate_to": ["carol"]}, "only used with on_timeout: escalate"),
        ({"required": [{}], "approvers": ["alice", "alice"]}, "approvers lists a name twice"),
        (
            {"required": [{}], "on_timeout": "escalate", "escalate_to": ["carol", "carol"]},
            "escalate_to lists a name twice",
        ),
        ({"required": [{}], "quorum": 3}, "a quorum of 3 cannot be met by approvers"),
        (
            {"required": [{}], "quorum": 2, "on_timeout": "escalate", "escalate_to": ["carol"]},
            "a quorum of 2 cannot be met by escalate_to",
        ),
        (
            {"required": [{"privilege": ["critical"]}], "approvers": ["alice"]},
            "a critical call needs two approvers",
        ),
        ({"required": [{}], "quorum": 0}, "greater than or equal to 1"),
        ({"required": [{}], "quorum": 11}, "less than or equal to 10"),
        ({"required": [{}], "timeout": "0s"}, "greater than 0"),
        ({"required": [{}], "timeout": "-5m"}, "timeout"),
        ({"required": [{}], "approvers": ["Alice"]}, "pattern"),
        ({"required": [{}], "approvers": ["../alice"]}, "pattern"),
        ({"required": [{}], "on_timeout": "approve"}, "on_timeout"),
        ({"required": [{}], "quorom": 2}, "Extra inputs"),
    ],
)
def test_a_policy_that_cannot_be_met(fields, message):
    with pytest.raises(ValidationError, match=message):
        policy(**fields)


def test_durations_as_people_write_them():
    p = policy(
        required=[rule()], timeout="90s", on_timeout="escalate", escalate_to=["carol", "dave"]
    )
    assert p.timeout == timedelta(seconds=90)
    assert policy(timeout="2h").timeout == timedelta(hours=2)
    assert (
        ApprovalPolicy().timeout == timedelta(minutes=10) and ApprovalPolicy().on_timeout == "deny"
    )


def test_approver_names_may_be_email_addresses():
    assert policy(approvers=["alice@example.com", "bob.smith"]).approvers[0] == "alice@example.com"


def test_an_escalation_list_too_short_for_a_critical_call():
    with pytest.raises(ValidationError, match="critical"):
        policy(
            required=[rule(privilege=["critical"])],
            approvers=["alice", "bob"],
            on_timeout="escalate",
            escalate_to=["carol"],
        )


# --- a mission may only tighten ------------------------------------------------------------

FLOOR = ApprovalPolicy.model_validate(
    {
        "required": [{"tools": ["tickets.comment"]}],
        "approvers": ["alice", "bob", "carol"],
        "quorum": 1,
        "timeout": "10m",
        "on_timeout": "escalate",
        "escalate_to": ["dave", "erin"],
        "escalation_timeout": "5m",
    }
)


def mission(**fields: Any) -> ApprovalsSpec:
    return ApprovalsSpec.model_validate(fields)


def test_nothing_added_is_the_floor():
    assert FLOOR.tightened(ApprovalsSpec()) == FLOOR
    assert ApprovalPolicy().tightened(ApprovalsSpec()) == ApprovalPolicy()


def test_a_mission_tightens():
    tight = FLOOR.tightened(
        mission(
            required=[{"privilege": ["critical"]}],
            approvers=["alice", "bob"],
            quorum=2,
            timeout="5m",
        )
    )
    assert tight.required == [*FLOOR.required, rule(privilege=["critical"])]
    assert tight.approvers == ["alice", "bob"]
    assert tight.quorum == 2
    assert tight.timeout == timedelta(minutes=5)
    assert tight.on_timeout == "escalate" and tight.escalate_to == ["dave", "erin"]
    assert tight.escalation_timeout == timedelta(minutes=5)
    # a call the floor let through now waits
    assert not FLOOR.needs_approval("files.delete", "critical", {})
    assert tight.needs_approval("files.delete", "critical", {})


def test_a_mission_narrows_the_escalation_list():
    tight = FLOOR.tightened(mission(escalate_to=["erin"]))
    assert tight.escalate_to == ["erin"] and tight.approvers == FLOOR.approvers
    # a quorum the narrower list cannot meet is refused, not left to time out
    with pytest.raises(ValueError, match="cannot be met by escalate_to"):
        FLOOR.tightened(mission(escalate_to=["erin"], quorum=2))


@pytest.mark.parametrize(
    "action, expect", [("deny", "deny"), ("abort", "abort"), ("escalate", "escalate")]
)
def test_a_stricter_timeout_action(action, expect):
    tight = FLOOR.tightened(mission(on_timeout=action))
    assert tight.on_timeout == expect
    if expect != "escalate":  # no escalation left to make
        assert tight.escalate_to == [] and tight.escalation_timeout is None


def test_deny_may_become_abort():
    floor = policy(required=[rule()], on_timeout="deny")
    assert floor.tightened(mission(on_timeout="abort")).on_timeout == "abort"


@pytest.mark.parametrize(
    "floor, added, message",
    [
        (FLOOR, {"approvers": ["alice", "mallory"]}, "approvers ['mallory'] are not among"),
        (FLOOR, {"escalate_to": ["mallory"]}, "escalate_to ['mallory'] are not among"),
        (
            policy(required=[rule()], approvers=["a", "b", "c"], quorum=2),
            {"quorum": 1},
            "quorum 1 is below the profile's 2",
        ),
        (FLOOR, {"timeout": "11m"}, "timeout 0:11:00 is longer than the profile's 0:10:00"),
        (
            policy(required=[rule()], on_timeout="abort"),
            {"on_timeout": "deny"},
            "on_timeout deny is weaker than the profile's abort",
        ),
        (
            policy(required=[rule()], on_timeout="deny"),
            {"on_timeout": "escalate", "escalate_to": ["carol"]},
            "on_timeout escalate is weaker than the profile's deny",
        ),
    ],
)
def test_a_mission_may_not_loosen(floor, added, message):
    with pytest.raises(ValueError, match="would loosen its profile's") as info:
        floor.tightened(mission(**added))
    assert message in str(info.value)


def test_every_loosening_is_named_at_once():
    with pytest.raises(ValueError) as info:
        FLOOR.tightened(mission(approvers=["mallory"], timeout="1h", escalate_to=["zed"]))
    text = str(info.value)
    assert "approvers ['mallory']" in text and "timeout 1:00:00" in text and "'zed'" in text


def test_a_mission_cannot_shrink_the_list_below_the_quorum():
    floor = policy(required=[rule()], approvers=["alice", "bob"], quorum=2)
    with pytest.raises(ValueError, match="a quorum of 2 cannot be met"):
        floor.tightened(mission(approvers=["alice"]))


def test_a_mission_cannot_require_approvals_its_profile_names_no_approver_for():
    with pytest.raises(ValueError, match="no approver is named"):
        ApprovalPolicy().tightened(mission(required=[{}]))


def test_a_mission_cannot_lower_a_critical_calls_default_quorum():
    floor = policy(required=[rule(privilege=["critical"])], approvers=["alice", "bob"])
    assert floor.quorum_for("critical") == 2
    with pytest.raises(ValueError, match="quorum"):
        floor.tightened(mission(quorum=1))
