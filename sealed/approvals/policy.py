"""Approval policy: a profile's (the owner's floor) and what a mission may add
(only tightening), and which calls it holds for a human decision."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from pydantic import Field, model_validator

from sealed.types import (
    HIGH_PRIVILEGES,
    ApproverName,
    Duration,
    Privilege,
    Strict,
    TimeoutAction,
    ToolName,
)


class ArgumentCondition(Strict):
    """A condition on one top-level argument of a call: exactly one of `equals`,
    `one_of` (any of these values) or `matches` (a regex the value's text must
    match whole)."""

    argument: str = Field(min_length=1)
    equals: Any = None
    one_of: list[Any] | None = None
    matches: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> ArgumentCondition:
        tests = [self.equals is not None, self.one_of is not None, self.matches is not None]
        if sum(tests) != 1:
            raise ValueError("say exactly one of equals, one_of or matches")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches: not a regex ({exc})") from None
        return self

    def holds(self, arguments: dict[str, Any]) -> bool:
        if self.argument not in arguments:
            return False
        value = arguments[self.argument]
        if self.one_of is not None:
            return value in self.one_of
        if self.matches is not None:
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            return re.fullmatch(self.matches, text) is not None
        return bool(value == self.equals)


class ApprovalRule(Strict):
    """Which calls need a human approval: those of a listed tool (any, when none
    is listed) at a listed privilege level, whose arguments meet every `when`."""

    privilege: list[Privilege] = Field(default_factory=lambda: list(HIGH_PRIVILEGES))
    tools: list[ToolName] = Field(default_factory=list)
    when: list[ArgumentCondition] = Field(default_factory=list)

    def applies(self, tool: str, privilege: Privilege, arguments: dict[str, Any]) -> bool:
        return (
            (not self.tools or tool in self.tools)
            and privilege in self.privilege
            and all(c.holds(arguments) for c in self.when)
        )


class ApprovalsSpec(Strict):
    """A mission's approvals: they may only tighten its profile's (more rules,
    fewer approvers, a larger quorum, a shorter timeout, a stricter timeout
    action); what is left out is the profile's."""

    required: list[ApprovalRule] = Field(default_factory=list)
    approvers: list[ApproverName] = Field(default_factory=list)
    quorum: int | None = Field(default=None, ge=1, le=10)
    timeout: Duration | None = Field(default=None, gt=timedelta(0))
    on_timeout: TimeoutAction | None = None
    escalate_to: list[ApproverName] = Field(default_factory=list)


# A stricter timeout action ranks higher: a mission may raise it, never lower it.
_STRICTNESS: dict[TimeoutAction, int] = {"escalate": 0, "deny": 1, "abort": 2}


class ApprovalPolicy(Strict):
    """Which calls wait for a human decision, who may give it, how many must
    agree (distinct approvers; a critical call needs two unless `quorum` says),
    how long the call waits and what a timeout does: deny (the model is told),
    abort the mission, or escalate to `escalate_to` for `escalation_timeout`
    (the same again by default), then deny."""

    required: list[ApprovalRule] = Field(default_factory=list)
    approvers: list[ApproverName] = Field(default_factory=list)
    quorum: int | None = Field(default=None, ge=1, le=10)
    timeout: Duration = Field(default=timedelta(minutes=10), gt=timedelta(0))
    on_timeout: TimeoutAction = "deny"
    escalate_to: list[ApproverName] = Field(default_factory=list)
    escalation_timeout: Duration | None = Field(default=None, gt=timedelta(0))

    @model_validator(mode="after")
    def _can_be_met(self) -> ApprovalPolicy:
        if self.required and not self.approvers:
            raise ValueError("approvals are required but no approver is named")
        if self.on_timeout == "escalate" and not self.escalate_to:
            raise ValueError("on_timeout: escalate needs escalate_to approvers")
        if (self.escalate_to or self.escalation_timeout) and self.on_timeout != "escalate":
            raise ValueError(
                "escalate_to and escalation_timeout are only used with on_timeout: escalate"
            )
        for who, names in (("approvers", self.approvers), ("escalate_to", self.escalate_to)):
            if len(set(names)) != len(names):
                raise ValueError(f"{who} lists a name twice")
            if self.required and len(names) < self.quorum_for("low") and names:
                raise ValueError(f"a quorum of {self.quorum} cannot be met by {who} {names}")
        critical = any("critical" in rule.privilege for rule in self.required)
        if critical and self.quorum is None:
            for who, names in (("approvers", self.approvers), ("escalate_to", self.escalate_to)):
                if names and len(names) < 2:
                    raise ValueError(
                        f"a critical call needs two approvers: name two in {who}, or set quorum: 1"
                    )
        return self

    def quorum_for(self, privilege: Privilege) -> int:
        return self.quorum or (2 if privilege == "critical" else 1)

    def needs_approval(self, tool: str, privilege: Privilege, arguments: dict[str, Any]) -> bool:
        return any(rule.applies(tool, privilege, arguments) for rule in self.required)

    def tightened(self, mission: ApprovalsSpec) -> ApprovalPolicy:
        """This floor with a mission's additions; ApprovalPolicyError names
        anything the mission would loosen, or a result that cannot be met
        (declared means enforced: it is refused, not ignored)."""
        problems = []
        outside = [a for a in mission.approvers if a not in self.approvers]
        if outside:
            problems.append(f"approvers {outside} are not among the profile's {self.approvers}")
        outside = [a for a in mission.escalate_to if a not in self.escalate_to]
        if outside:
            problems.append(f"escalate_to {outside} are not among the profile's {self.escalate_to}")
        if mission.quorum is not None:
            # Every level a rule holds keeps at least its floor (critical: two by default).
            levels = {p for rule in [*self.required, *mission.required] for p in rule.privilege}
            floor = max((self.quorum_for(p) for p in levels), default=1)
            if mission.quorum < floor:
                problems.append(f"quorum {mission.quorum} is below the profile's {floor}")
        if mission.timeout is not None and mission.timeout > self.timeout:
            problems.append(
                f"timeout {mission.timeout} is longer than the profile's {self.timeout}"
            )
        if mission.on_timeout is not None and (
            _STRICTNESS[mission.on_timeout] < _STRICTNESS[self.on_timeout]
        ):
            problems.append(
                f"on_timeout {mission.on_timeout} is weaker than the profile's {self.on_timeout}"
            )
        if problems:
            raise ApprovalPolicyError(
                "the mission's approvals would loosen its profile's: " + "; ".join(problems)
            )
        on_timeout = mission.on_timeout or self.on_timeout
        try:
            return self._with(mission, on_timeout)
        except ValueError as exc:  # e.g. rules added where the profile names no approver
            raise ApprovalPolicyError(str(exc)) from None

    def _with(self, mission: ApprovalsSpec, on_timeout: TimeoutAction) -> ApprovalPolicy:
        return ApprovalPolicy(
            required=[*self.required, *mission.required],
            approvers=mission.approvers or self.approvers,
            quorum=mission.quorum or self.quorum,
            timeout=mission.timeout or self.timeout,
            on_timeout=on_timeout,
            escalate_to=(mission.escalate_to or self.escalate_to)
            if on_timeout == "escalate"
            else [],
            escalation_timeout=self.escalation_timeout if on_timeout == "escalate" else None,
        )


class CallPolicy(Strict):
    """What the workflow needs to hold a call for a decision, as the model-turn
    activity found it at the backend: the mission's effective policy (its
    profile's, tightened by the mission), the approvers' registered public keys
    and each of the mission's tools' privilege level."""

    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    approver_keys: dict[ApproverName, str] = Field(default_factory=dict)
    privileges: dict[ToolName, Privilege] = Field(default_factory=dict)

    def privilege(self, tool: str) -> Privilege:
        # A tool the worker did not describe is held to the strictest level.
        return self.privileges.get(tool, "critical")


class ApprovalPolicyError(ValueError):
    """A mission's approvals would loosen its profile's, or cannot be met (not
    retryable: the mission fails with the reason)."""
