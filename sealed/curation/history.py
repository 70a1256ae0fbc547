"""A finished mission as its Temporal history holds it, read through the
workers' codec: what it was asked, how it ended, the conversation its model
last had (the input of its last model turn that completed, and that turn's
answer) and the fingerprints of every value it was issued.

The history, not the `transcript` query: a query of a closed workflow needs
a worker of the mission's task queue to replay it, and what a model turn was
given and answered is in the history as is. Tool results that came back
after the model's last answer are left out: no model read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, WorkflowSerializationContext

from sealed.codec.payload import WORKFLOW_META
from sealed.contract import MODEL_TURN, RUN_TOOL, WORKFLOW_NAME
from sealed.models import (
    Fingerprint,
    Message,
    MissionInput,
    MissionResult,
    ModelTurnInput,
    ModelTurnOutput,
    ToolCallResult,
)

M = TypeVar("M", bound=BaseModel)


class UnreadableMission(Exception):
    """Not a mission, not finished, or a payload that does not decode (the
    message names which, never what a payload holds)."""


class FinishedMission(BaseModel):
    model_config = ConfigDict(frozen=True)

    mission: MissionInput
    result: MissionResult
    conversation: list[Message]
    known: list[Fingerprint]

    @property
    def mission_id(self) -> str:
        return self.mission.mission_id

    @property
    def profile(self) -> str:
        return self.mission.spec.profile


async def _decode(
    converter: DataConverter, payloads: Sequence[Payload], kind: type[M], workflow_id: str
) -> M:
    try:
        [value] = await converter.decode(payloads, [kind])
    except Exception as exc:
        # A codec or validation error may quote what it could not read.
        raise UnreadableMission(
            f"a {kind.__name__} does not decode ({type(exc).__name__})"
        ) from None
    if not isinstance(value, kind):
        raise UnreadableMission(f"a {kind.__name__} decodes as a {type(value).__name__}")
    # Decoded, and bound to this workflow (its id is in the AES-GCM associated
    # data, so the label cannot be changed): what every worker and client
    # writes. An unbound payload is what the codec server's /encode writes for
    # anyone with its token (or a browser signed in to it), who could start a
    # MissionWorkflow at the frontend and answer its tasks as a worker: not a
    # mission this runtime ran.
    bound = workflow_id.encode()
    if any(p.metadata.get(WORKFLOW_META) != bound for p in payloads):
        raise UnreadableMission(
            f"a {kind.__name__} is not encrypted for this mission (by the codec "
            "server, or before payloads were bound to their workflow)"
        )
    return value


async def read_finished(history: WorkflowHistory, converter: DataConverter) -> FinishedMission:
    """`converter`: the workers' (strict: a payload no Sealed process
    encrypted, which anyone at the frontend can write, is refused here as a
    worker refuses it). Stricter than a worker: every payload read must be
    bound to `history.workflow_id`."""
    events = history.events
    if not events or not events[0].HasField("workflow_execution_started_event_attributes"):
        raise UnreadableMission("the history has no start")
    started = events[0].workflow_execution_started_event_attributes
    if started.workflow_type.name != WORKFLOW_NAME:
        raise UnreadableMission(f"a {started.workflow_type.name}, not a mission")
    workflow_id = history.workflow_id
    mission = await _decode(converter, started.input.payloads, MissionInput, workflow_id)
    scheduled: dict[int, tuple[str, Sequence[Payload]]] = {}
    known: list[Fingerprint] = []
    last_turn: tuple[Sequence[Payload], ModelTurnOutput] | None = None
    result: MissionResult | None = None
    for event in events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_type.name, attrs.input.payloads)
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            kind, given = scheduled.get(done.scheduled_event_id, ("", []))
            if kind == MODEL_TURN:
                output = await _decode(
                    converter, done.result.payloads, ModelTurnOutput, workflow_id
                )
                known += output.issued
                last_turn = (given, output)
            elif kind == RUN_TOOL:
                called = await _decode(converter, done.result.payloads, ToolCallResult, workflow_id)
                known += called.issued
        elif event.HasField("workflow_execution_completed_event_attributes"):
            payloads = event.workflow_execution_completed_event_attributes.result.payloads
            result = await _decode(converter, payloads, MissionResult, workflow_id)
    if result is None:
        raise UnreadableMission("not finished with a result (running, terminated or timed out)")
    conversation: list[Message] = []
    if last_turn is not None:
        # Only the last turn's input is decoded: each holds the whole
        # conversation so far, so decoding them all would cost its square.
        given, output = last_turn
        turn = await _decode(converter, given, ModelTurnInput, workflow_id)
        known += turn.known
        answer = Message(role="assistant", content=output.content, tool_calls=output.tool_calls)
        conversation = [*turn.conversation, answer]
    return FinishedMission(
        mission=mission,
        result=result,
        conversation=conversation,
        known=list({fp.model_dump_json(): fp for fp in known}.values()),
    )


async def fetch_finished(
    client: Client, mission_id: str, run_id: str | None = None
) -> FinishedMission:
    """The mission's history from the server (the run `run_id`, the one an
    export listed: a workflow started later under the same id is not it),
    decoded with the client's converter bound to the mission (a payload
    encrypted for another workflow is refused)."""
    handle = client.get_workflow_handle(mission_id, run_id=run_id)
    history = await handle.fetch_history()
    context = WorkflowSerializationContext(namespace=client.namespace, workflow_id=mission_id)
    return await read_finished(history, client.data_converter.with_context(context))
