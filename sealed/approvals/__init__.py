"""Sealed IV, just-in-time human approval: which calls wait (policy), what an
approver is asked (request), and the signed decisions that release or refuse
them (decision), with approvers' Ed25519 keys (keys). Pure: the workflow runs
the same checks deterministically; I/O (notification, key registry) is in
activities and the CLI."""

from sealed.approvals.decision import Decision, DecisionRejected, check, sign_decision
from sealed.approvals.policy import ApprovalPolicy
from sealed.approvals.request import ApprovalRequest, ApprovalState, argument_digest

__all__ = [
    "ApprovalPolicy",
    "ApprovalRequest",
    "ApprovalState",
    "Decision",
    "DecisionRejected",
    "argument_digest",
    "check",
    "sign_decision",
]
