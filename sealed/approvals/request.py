"""An approval request: one tool call held for a human decision, bound to its
exact arguments by a digest, and the state of the decision on it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sealed.types import ApproverName, Privilege, Strict, TimeoutAction

ApprovalStatus = Literal["pending", "approved", "denied", "timed_out", "aborted"]


def argument_digest(mission_id: str, call_id: str, tool: str, arguments: dict[str, Any]) -> str:
    """SHA-256 binding a call's identity and its canonical arguments: a decision
    signed over it holds for this call with exactly these arguments."""
    canonical = json.dumps(
        {"mission_id": mission_id, "call_id": call_id, "tool": tool, "arguments": arguments},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ApprovalRequest(Strict):
    """What an approver is asked, as the workflow recorded it. The arguments
    are the call's, already redacted; `approvers` are those who may decide now
    (the escalation list once escalated)."""

    id: str
    mission_id: str
    call_id: str
    tool: str
    privilege: Privilege
    arguments: dict[str, Any]
    digest: str
    approvers: list[ApproverName]
    quorum: int = Field(ge=1)
    deadline: datetime
    on_timeout: TimeoutAction
    escalated: bool = False
    submitter: str | None = None
    held_by: str | None = Field(
        default=None,
        description="the directive that asked for this decision, and why (None: the policy)",
    )

    def digest_for(self, arguments: dict[str, Any]) -> str:
        return argument_digest(self.mission_id, self.call_id, self.tool, arguments)


class ApprovalState(BaseModel):
    """A request and what has been decided on it (the workflow's own record)."""

    request: ApprovalRequest
    status: ApprovalStatus = "pending"
    approved_by: list[ApproverName] = Field(default_factory=list)
    # The arguments the approvers agreed to, when they edited them.
    arguments: dict[str, Any] | None = None
    decided_by: ApproverName | None = None
    reason: str = ""
