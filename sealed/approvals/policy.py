"""Approval policy: a profile's (the owner's floor) and what a mission may add
(only tightening), and which calls it holds for a human decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, model_validator

from sealed.models import (
    ApprovalRule,
    ApprovalsSpec,
    ApproverName,
    Duration,
    Privilege,
    Strict,
    TimeoutAction,
)

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
        if self.escalate_to and self.on_timeout != "escalate":
            raise ValueError("escalate_to is only used with on_timeout: escalate")
        for who, names in (("approvers", self.approvers), ("escalate_to", self.escalate_to)):
            if len(set(names)) != len(names):
                raise ValueError(f"{who} lists a name twice")
            if self.required and len(names) < self.quorum_for("low") and names:
                raise ValueError(f"a quorum of {self.quorum} cannot be met by {who} {names}")
        critical = any("critical" in rule.privilege for rule in self.required)
        if critical and self.quorum is None and len(self.approvers) < 2:
            raise ValueError("a critical call needs two approvers: name two, or set quorum: 1")
        return self

    def quorum_for(self, privilege: Privilege) -> int:
        return self.quorum or (2 if privilege == "critical" else 1)

    def needs_approval(self, tool: str, privilege: Privilege, arguments: dict[str, Any]) -> bool:
        return any(rule.applies(tool, privilege, arguments) for rule in self.required)

    def tightened(self, mission: ApprovalsSpec) -> ApprovalPolicy:
        """This floor with a mission's additions; ValueError names anything the
        mission would loosen (declared means enforced: it is refused, not ignored)."""
        problems = []
        outside = [a for a in mission.approvers if a not in self.approvers]
        if outside:
            problems.append(f"approvers {outside} are not among the profile's {self.approvers}")
        outside = [a for a in mission.escalate_to if a not in self.escalate_to]
        if outside:
            problems.append(f"escalate_to {outside} are not among the profile's {self.escalate_to}")
        if mission.quorum is not None and mission.quorum < (self.quorum or 1):
            problems.append(f"quorum {mission.quorum} is below the profile's {self.quorum}")
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
            raise ValueError(
                "the mission's approvals would loosen its profile's: " + "; ".join(problems)
            )
        on_timeout = mission.on_timeout or self.on_timeout
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
