"""What the workflow asks to have written when a directive fires: the policy,
its level and action, the event (which call of which tool), what the runtime
did, and a short excerpt of the trace as the runtime already redacted it."""

from __future__ import annotations

from typing import Literal

from sealed.audit import AuditEvent
from sealed.directives.engine import Event, Firing
from sealed.types import Strict

DirectiveEventKind = Literal["directive.violated", "directive.alert", "directive.logged"]
# What the runtime did about a firing.
Outcome = Literal["aborted", "denied", "held", "withheld", "alerted", "logged"]


class Violation(Strict):
    """A firing and the event it fired on: in the audit log and, for the one
    that stopped the mission, in its result."""

    policy: str
    level: str
    action: str
    reason: str
    event: Event
    tool: str
    call_id: str
    where: str = ""
    excerpt: str = ""

    @classmethod
    def of(cls, firing: Firing, event: Event, tool: str, call_id: str, excerpt: str) -> Violation:
        return cls(
            policy=firing.policy,
            level=firing.level,
            action=firing.action,
            reason=firing.reason,
            event=event,
            tool=tool,
            call_id=call_id,
            where=firing.where,
            excerpt=excerpt,
        )


class DirectiveEvent(Strict):
    kind: DirectiveEventKind
    mission_id: str
    profile: str
    violation: Violation
    outcome: Outcome

    def audit(self) -> AuditEvent:
        v = self.violation
        return AuditEvent(
            kind=self.kind,
            mission_id=self.mission_id,
            profile=self.profile,
            tool=v.tool,
            outcome=self.outcome,
            reason=v.reason,
            details={
                "policy": v.policy,
                "level": v.level,
                "action": v.action,
                "event": v.event,
                "call": v.call_id,
                **({"where": v.where} if v.where else {}),
                **({"excerpt": v.excerpt} if v.excerpt else {}),
            },
        )


class DirectiveAbort(Strict):
    """The mission stops on a violation: revoke it (every credential of it
    refused from now on) and write why."""

    mission_id: str
    profile: str
    violation: Violation
    events: list[DirectiveEvent]
