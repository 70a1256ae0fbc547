"""Names shared by the workflow, the activities, the workers and the clients.
Changing one of these breaks running missions and committed histories."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TASK_QUEUE = "sealed-missions"
WORKFLOW_NAME = "MissionWorkflow"

MODEL_TURN = "sealed.model_turn"
RUN_TOOL = "sealed.run_tool"

SA_MISSION = SearchAttributeKey.for_keyword("SealedMission")
SA_PROFILE = SearchAttributeKey.for_keyword("SealedProfile")
SA_STATUS = SearchAttributeKey.for_keyword("SealedStatus")
SEARCH_ATTRIBUTES = (SA_MISSION, SA_PROFILE, SA_STATUS)

# Error types that retrying cannot fix: the activity fails at once.
NON_RETRYABLE_MODEL_ERRORS = [
    "ModelConfigError",
    "PromptTampered",
    "ProfileNotAllowed",
    "ApprovalPolicyError",
    "ApproverUnknown",
    "DirectiveError",
]
NON_RETRYABLE_TOOL_ERRORS = ["ToolConfigError", "ProfileNotAllowed", "ApprovalPolicyError"]

# Human approval (Sealed IV): decisions arrive as these signals (or the update,
# for a synchronous answer), each carrying a signed sealed.approvals.Decision;
# the query answers the mission's approval requests and their state.
APPROVE_SIGNAL = "approve"
DENY_SIGNAL = "deny"
DECIDE_UPDATE = "decide"
APPROVALS_QUERY = "approvals"
APPROVAL_EVENT = "sealed.approval_event"
NOTIFY_APPROVAL = "sealed.notify_approval"
# The tool activity writes the decision that released its call before anything
# else; an attempt that could not fails with this type, and the workflow then
# writes the decision itself.
DECISION_NOT_RECORDED = "DecisionNotRecorded"

# Sealed V: what a directive that fired asks to have written, and the abort's
# revocation of the mission.
DIRECTIVE_EVENT = "sealed.directive_event"
DIRECTIVE_ABORT = "sealed.directive_abort"
