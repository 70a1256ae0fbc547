"""A decision on an approval request: Ed25519-signed by its approver over the
mission, the request, the argument digest, the decision and its expiry; and
the one pure function that says whether a decision may count. The workflow's
`approve`/`deny` signals and its `decide` update's validator all call it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import AwareDatetime, Field

from sealed.approvals import keys
from sealed.approvals.request import ApprovalRequest, ApprovalState
from sealed.types import ApproverName, Strict

Verdict = Literal["approve", "deny"]
# How long a decision is good for when its signer does not say.
DEFAULT_VALIDITY = timedelta(minutes=15)


class Decision(Strict):
    mission_id: str
    request_id: str
    # Of the arguments decided on: the request's, or an approver's edit of them.
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    decision: Verdict
    expires_at: AwareDatetime
    approver: ApproverName
    arguments: dict[str, Any] | None = Field(
        default=None, description="edited arguments (approve only), signed through `digest`"
    )
    reason: str = Field(default="", max_length=2000)
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """Everything but the signature, canonical JSON: what the key signs."""
        body = self.model_dump(mode="json", exclude={"signature"})
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def used_id(self) -> str:
        """Names this exact decision, so a replay of it is recognised."""
        return hashlib.sha256(self.signed_bytes()).hexdigest()


def sign_decision(
    key: Ed25519PrivateKey,
    request: ApprovalRequest,
    *,
    approver: str,
    decision: Verdict = "approve",
    arguments: dict[str, Any] | None = None,
    reason: str = "",
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
) -> Decision:
    """A signed decision on `request` (with `arguments`, an approval of edited
    arguments), good until `now + validity`: what `sealed approve` sends, and
    what a user of the Temporal client can build to signal the workflow."""
    unsigned = Decision(
        mission_id=request.mission_id,
        request_id=request.id,
        digest=request.digest_for(arguments) if arguments is not None else request.digest,
        decision=decision,
        expires_at=now + validity,
        approver=approver,
        arguments=arguments,
        reason=reason,
    )
    return unsigned.model_copy(update={"signature": keys.sign(key, unsigned.signed_bytes())})


class DecisionRejected(ValueError):
    """Why a decision does not count; it changes nothing."""


def check(
    decision: Decision,
    state: ApprovalState | None,
    *,
    mission_id: str,
    approver_keys: Mapping[str, str],
    now: datetime,
    used: Collection[str],
) -> None:
    """Raises DecisionRejected unless `decision` may count on `state`'s request."""
    if decision.mission_id != mission_id:
        raise DecisionRejected(f"signed for mission '{decision.mission_id}', not this one")
    if state is None:
        raise DecisionRejected(f"no approval request '{decision.request_id}' in this mission")
    request = state.request
    if decision.request_id != request.id:
        raise DecisionRejected(f"signed for request '{decision.request_id}', not '{request.id}'")
    if state.status != "pending":
        raise DecisionRejected(f"request '{request.id}' is already {state.status}")
    if decision.approver not in request.approvers:
        raise DecisionRejected(
            f"'{decision.approver}' may not decide request '{request.id}' "
            f"(its approvers: {', '.join(request.approvers)})"
        )
    if request.submitter is not None and decision.approver == request.submitter:
        raise DecisionRejected(f"'{decision.approver}' submitted this mission: another must decide")
    public = approver_keys.get(decision.approver)
    if public is None or not keys.verify(public, decision.signature, decision.signed_bytes()):
        raise DecisionRejected(f"the signature is not '{decision.approver}''s")
    if now >= decision.expires_at:
        raise DecisionRejected(f"the decision expired at {decision.expires_at.isoformat()}")
    if decision.arguments is not None and decision.decision != "approve":
        raise DecisionRejected("only an approval can edit the arguments")
    expected = (
        request.digest_for(decision.arguments) if decision.arguments is not None else request.digest
    )
    if decision.digest != expected:
        raise DecisionRejected("signed for other arguments than the request's")
    if decision.used_id in used:
        raise DecisionRejected("this decision was already used")
    if decision.approver in state.approved_by:
        raise DecisionRejected(f"'{decision.approver}' already approved: quorum needs another")
    if (
        state.approved_by
        and decision.decision == "approve"
        and decision.arguments != state.arguments
    ):
        raise DecisionRejected("an earlier approver approved other arguments: approve those")
