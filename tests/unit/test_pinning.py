"""Replay safety checks the digest itself (red team 14): the workflow computes
what the mission must be told and refuses a model turn that answered for
anything else; the activity refuses an original that does not hash to it; the
first turn writes the digest to the audit log (red team 16)."""

from __future__ import annotations

import uuid

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from sealed.audit import AuditLog
from sealed.contract import MODEL_TURN, WORKFLOW_NAME
from sealed.models import (
    MissionInput,
    MissionResult,
    MissionSpec,
    MissionStatus,
    ModelTurnInput,
    ModelTurnOutput,
    OriginalPrompt,
)
from sealed.pinning import FilePromptStore, PromptTampered, original_for_turn
from sealed.workflows.mission import MissionWorkflow

SPEC = MissionSpec.model_validate(
    {
        "name": "pinned",
        "profile": "tester",
        "goal": "do the thing",
        "model": {"provider": "scripted", "script": {"turns": [{"final": "done"}]}},
    }
)
FORGED = "0" * 64


@activity.defn(name=MODEL_TURN)
async def forged_turn(request: ModelTurnInput) -> ModelTurnOutput:
    """A model turn completed by someone else, for a prompt of their choosing."""
    return ModelTurnOutput(content="done", prompt_digest=FORGED)


async def test_a_turn_answered_for_another_prompt_fails_the_mission(
    time_skipping_env: WorkflowEnvironment,
):
    queue = f"pinning-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[MissionWorkflow],
        activities=[forged_turn],
    ):
        mission_id = f"pinned-{uuid.uuid4().hex[:8]}"
        result = await time_skipping_env.client.execute_workflow(
            WORKFLOW_NAME,
            MissionInput(mission_id=mission_id, spec=SPEC),
            id=mission_id,
            task_queue=queue,
            result_type=MissionResult,
        )
    assert result.status == MissionStatus.FAILED
    assert result.reason is not None and "prompt.tampered" in result.reason
    assert OriginalPrompt.of(SPEC).digest() in result.reason


async def test_the_first_turn_pins_the_digest_in_the_audit_log(tmp_path):
    audit = AuditLog(tmp_path / "audit.log")
    original = OriginalPrompt.of(SPEC)
    digest, got = await original_for_turn(
        FilePromptStore(tmp_path / "prompts"),
        audit,
        "m-1",
        original=original,
        digest=original.digest(),
    )
    assert got == original and digest == original.digest()
    (pinned,) = audit.events("m-1")
    assert pinned.kind == "prompt.pinned" and pinned.details == {"digest": digest}


async def test_an_original_that_is_not_the_missions_is_refused_and_audited(tmp_path):
    audit = AuditLog(tmp_path / "audit.log")
    with pytest.raises(PromptTampered, match="hashes to"):
        await original_for_turn(
            FilePromptStore(tmp_path / "prompts"),
            audit,
            "m-1",
            original=OriginalPrompt.of(SPEC),
            digest=FORGED,
        )
    assert [e.kind for e in audit.events("m-1")] == ["prompt.tampered"]
