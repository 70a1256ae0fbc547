"""A finished mission read from its history (the committed ones, recorded on
the real stack) through the workers' strict codec: its input, its result,
the conversation its model last had with that turn's answer, and the
fingerprints of everything it was issued."""

from __future__ import annotations

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from sealed.curation import UnreadableMission, read_finished
from sealed.models import MissionStatus
from tests.curation_support import converter, finished, history


async def test_a_completed_mission_as_its_model_had_it():
    mission = await finished("v4-demo_triage_completed")
    assert mission.mission_id == "history-demo_triage_completed"
    assert mission.profile == "support-agent"
    assert mission.result.status == MissionStatus.COMPLETED
    roles = [m.role for m in mission.conversation]
    assert roles == ["assistant", "tool"] * 4 + ["assistant"]
    assert mission.conversation[-1].content == mission.result.answer
    assert [m.name for m in mission.conversation if m.flags] == ["tickets.read"]
    # The comment's two credentials, each fingerprinted in its forms, once each.
    assert {fp.name for fp in mission.known} == {"tickets_token", "mission_identity"}
    assert len({fp.digest for fp in mission.known}) == len(mission.known)


async def test_an_aborted_mission_ends_with_the_answer_that_stopped_it():
    mission = await finished("demo_triage_directive_aborted")
    assert mission.result.status == MissionStatus.ABORTED
    last = mission.conversation[-1]
    assert last.role == "assistant"
    assert [call.name for call in last.tool_calls] == ["http.fetch"]


async def test_a_mission_stopped_before_its_model_answered_has_no_conversation_to_speak_of():
    mission = await finished("v4-stalling_aborted")
    assert [m.role for m in mission.conversation] == ["assistant"]
    assert mission.known == []


async def test_an_unencrypted_history_is_refused_as_a_worker_refuses_it():
    """Written before encryption, or by anyone at the frontend without a key."""
    with pytest.raises(UnreadableMission, match="MissionInput does not decode"):
        await finished("v1-demo_triage_completed")


async def test_payloads_encrypted_for_another_workflow_are_refused():
    recorded = history("v4-demo_triage_completed")
    with pytest.raises(UnreadableMission, match="does not decode"):
        await read_finished(recorded, converter("history-someone-else"))


async def test_an_unfinished_mission_is_not_read():
    recorded = history("v4-demo_triage_completed")
    running = WorkflowHistory(recorded.workflow_id, list(recorded.events[:-1]))
    with pytest.raises(UnreadableMission, match="not finished"):
        await read_finished(running, converter(recorded.workflow_id))


async def test_something_else_than_a_mission_is_not_read():
    recorded = history("v4-demo_triage_completed")
    first = HistoryEvent()
    first.CopyFrom(recorded.events[0])
    first.workflow_execution_started_event_attributes.workflow_type.name = "OtherWorkflow"
    other = WorkflowHistory(recorded.workflow_id, [first, *recorded.events[1:]])
    with pytest.raises(UnreadableMission, match="OtherWorkflow, not a mission"):
        await read_finished(other, converter(recorded.workflow_id))
