"""What the workflow asks to have written about an approval: one audit event
per request, notification, decision, rejected decision, timeout and
escalation (names, ids, digests and key fingerprints; never a value)."""

from __future__ import annotations

from typing import Literal

from sealed.approvals.request import ApprovalRequest
from sealed.audit import AuditEvent
from sealed.types import Strict

ApprovalEventKind = Literal[
    "approval.requested",
    "approval.notified",
    "approval.decided",
    "approval.rejected",
    "approval.timed_out",
    "approval.escalated",
]


class ApprovalEvent(Strict):
    kind: ApprovalEventKind
    mission_id: str
    request_id: str
    # None for a decision on a request the mission never made.
    request: ApprovalRequest | None = None
    approver: str | None = None
    key: str | None = None  # the approver key's fingerprint
    decision: str | None = None
    # Decision.used_id: names the signed decision (the same one written twice
    # is recognisable).
    decision_id: str | None = None
    outcome: str = "ok"
    reason: str | None = None

    def audit(self) -> AuditEvent:
        request = self.request
        described: dict[str, str | int | bool] = (
            {
                "call": request.call_id,
                "digest": request.digest,
                "approvers": ",".join(request.approvers),
                "quorum": request.quorum,
                "escalated": request.escalated,
            }
            if request is not None
            else {}
        )
        return AuditEvent(
            kind=self.kind,
            mission_id=self.mission_id,
            tool=request.tool if request is not None else None,
            actor=self.approver,
            outcome=self.outcome,
            reason=self.reason,
            details={
                "request": self.request_id,
                **described,
                **({"key": self.key} if self.key else {}),
                **({"decision": self.decision} if self.decision else {}),
                **({"decision_id": self.decision_id} if self.decision_id else {}),
            },
        )
