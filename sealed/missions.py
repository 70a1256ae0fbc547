"""Client-side mission operations shared by the CLI, the demo and tests:
submit, follow, describe, list, abort, and the approval requests they wait on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from sealed.approvals import ApprovalState, Decision
from sealed.config import Settings
from sealed.contract import (
    APPROVALS_QUERY,
    DECIDE_UPDATE,
    SA_MISSION,
    SA_PROFILE,
    SA_STATUS,
    WORKFLOW_NAME,
)
from sealed.identity.profiles import Profile, profile_queue
from sealed.models import (
    AbortRequest,
    Message,
    MissionInput,
    MissionProgress,
    MissionResult,
    MissionSpec,
    MissionStatus,
)
from sealed.terminal import printable


def new_mission_id(spec: MissionSpec) -> str:
    return f"mission-{spec.name}-{uuid.uuid4().hex[:8]}"


def task_queue(settings: Settings, profile: Profile | None) -> str:
    """Where a mission runs: a dedicated profile's own queue, else the shared one."""
    if profile is not None and profile.worker == "dedicated":
        return profile_queue(profile.name)
    return settings.task_queue


async def submit(
    client: Client,
    settings: Settings,
    spec: MissionSpec,
    mission_id: str | None = None,
    *,
    profile: Profile | None = None,
) -> WorkflowHandle[object, MissionResult]:
    """Starts the mission on its profile's queue; `profile` as registered
    (sealed.revocation.ensure_submittable returns it). Without it, the shared
    queue: the shared worker refuses a dedicated profile's mission there."""
    mission_id = mission_id or new_mission_id(spec)
    return await client.start_workflow(
        WORKFLOW_NAME,
        MissionInput(mission_id=mission_id, spec=spec, submitter=settings.operator),
        id=mission_id,
        task_queue=task_queue(settings, profile),
        result_type=MissionResult,
    )


def ui_link(settings: Settings, mission_id: str) -> str:
    namespace = settings.temporal_namespace
    return f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{mission_id}"


async def transcript_updates(
    handle: WorkflowHandle[object, MissionResult], poll: float = 0.25
) -> AsyncIterator[Message]:
    """Each new message of a running mission, as it happens, until it ends."""
    seen = 0
    while True:
        messages = await handle.query("transcript", result_type=list[Message])
        for message in messages[seen:]:
            yield message
        seen = len(messages)
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            final = await handle.query("transcript", result_type=list[Message])
            for message in final[seen:]:
                yield message
            return
        await asyncio.sleep(poll)


def describe_message(message: Message, width: int = 160) -> str:
    """One line for a person watching the mission; what the model or a tool
    wrote is shown, never obeyed by the terminal."""

    def clip(text: str) -> str:
        text = printable(" ".join(text.split()))
        return text if len(text) <= width else text[: width - 1] + "…"

    if message.role == "assistant" and message.tool_calls:
        calls = ", ".join(f"{c.name}({json.dumps(c.arguments)})" for c in message.tool_calls)
        said = f"{clip(message.content)} " if message.content else ""
        return f"model: {said}-> {clip(calls)}"
    if message.role == "assistant":
        return f"model (final): {clip(message.content)}"
    marker = "error" if message.is_error else "ok"
    return f"  {printable(message.name or '')} [{marker}]: {clip(message.content)}"


Answer = Callable[[ApprovalState], Awaitable[object]]


async def follow(
    handle: WorkflowHandle[object, MissionResult],
    say: Callable[[str], None],
    answer: Answer | None = None,
    poll: float = 0.25,
) -> MissionResult:
    """Says each new message of the mission until it ends; with `answer`, each
    approval request it waits on is handed to it, after the messages that led
    to it (the model's call) have been said."""
    said, asked = 0, _Asked()
    while True:
        waiting = await asked.new(handle) if answer is not None else []
        messages = await handle.query("transcript", result_type=list[Message])
        for message in messages[said:]:
            say(describe_message(message))
        said = len(messages)
        if answer is not None:
            for state in waiting:
                await answer(state)
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            final = await handle.query("transcript", result_type=list[Message])
            for message in final[said:]:
                say(describe_message(message))
            return await handle.result()
        if not waiting:
            await asyncio.sleep(poll)


async def progress(client: Client, mission_id: str) -> MissionProgress:
    handle = client.get_workflow_handle(mission_id)
    answer: MissionProgress = await handle.query("status", result_type=MissionProgress)
    return answer


async def wait_for_pending(client: Client, mission_id: str, prefix: str) -> MissionProgress:
    """Until the mission has pending work whose name starts with `prefix`
    (e.g. "tool:"); callers bound it with `asyncio.timeout`."""
    while True:
        answer = await progress(client, mission_id)
        if any(item.startswith(prefix) for item in answer.pending):
            return answer
        await asyncio.sleep(0.1)


class MissionNotRunning(Exception):
    pass


async def abort(
    client: Client, mission_id: str, reason: str, *, wait_for_cancellation: bool = True
) -> MissionProgress:
    """Abort a running mission; MissionNotRunning if it has already ended."""
    handle = client.get_workflow_handle(mission_id)
    request = AbortRequest(reason=reason, wait_for_cancellation=wait_for_cancellation)
    try:
        answer: MissionProgress = await handle.execute_update(
            "abort", request, result_type=MissionProgress
        )
        return answer
    except WorkflowUpdateFailedError as exc:
        # The validator's refusal: the mission finished while we asked.
        raise MissionNotRunning(str(exc.cause)) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        try:
            attrs = (await handle.describe()).typed_search_attributes
        except RPCError:
            raise MissionNotRunning(f"no mission '{mission_id}'") from exc
        raise MissionNotRunning(f"mission already {attrs.get(SA_STATUS)}") from exc


async def list_missions(
    client: Client, status: MissionStatus | None = None, limit: int = 50
) -> list[tuple[str, str, str, str, datetime]]:
    """(mission id, mission name, profile, status, started) rows, newest first."""
    query = f"WorkflowType = '{WORKFLOW_NAME}'"
    if status is not None:
        query += f" AND {SA_STATUS.name} = '{status.value}'"
    rows = []
    async for wf in client.list_workflows(query, limit=limit):
        attrs = wf.typed_search_attributes
        rows.append(
            (
                wf.id,
                attrs.get(SA_MISSION) or "",
                attrs.get(SA_PROFILE) or "",
                attrs.get(SA_STATUS) or "",
                wf.start_time,
            )
        )
    return rows


# --- approval requests (Sealed IV) -------------------------------------------------------


async def approvals(client: Client, mission_id: str) -> list[ApprovalState]:
    """A mission's approval requests and what has been decided on each."""
    handle = client.get_workflow_handle(mission_id)
    answer: list[ApprovalState] = await handle.query(
        APPROVALS_QUERY, result_type=list[ApprovalState]
    )
    return answer


async def pending_approvals(
    client: Client, limit: int = 100
) -> tuple[list[ApprovalState], dict[str, str]]:
    """Every request still waiting, across the missions whose SealedStatus says
    they wait; and the missions that could not be asked, with why (a query
    needs a worker serving the mission's queue)."""
    ids = [row[0] for row in await list_missions(client, MissionStatus.AWAITING_APPROVAL, limit)]
    answers = await asyncio.gather(*(approvals(client, i) for i in ids), return_exceptions=True)
    pending, unanswered = [], {}
    for mission_id, answer in zip(ids, answers, strict=True):
        if isinstance(answer, BaseException):
            unanswered[mission_id] = str(answer) or type(answer).__name__
            continue
        pending += [state for state in answer if state.status == "pending"]
    return pending, unanswered


class DecisionRefused(Exception):
    """The mission refused a decision (the check's reason), or cannot take one."""


async def decide(client: Client, decision: Decision) -> str:
    """Sends a signed decision as the `decide` update: the mission's validator
    runs the same check as the signals, so a refusal comes back at once (and
    never reaches history). Returns the request's status after it."""
    handle = client.get_workflow_handle(decision.mission_id)
    try:
        status: str = await handle.execute_update(DECIDE_UPDATE, decision, result_type=str)
        return status
    except WorkflowUpdateFailedError as exc:
        raise DecisionRefused(str(exc.cause)) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise DecisionRefused(f"mission '{decision.mission_id}' is not running") from exc


class _Asked:
    """The requests already handed on: each once, and once more when escalated
    (to other approvers)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, bool]] = set()

    async def new(self, handle: WorkflowHandle[object, MissionResult]) -> list[ApprovalState]:
        try:
            states = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
        except (RPCError, WorkflowQueryRejectedError):
            return []  # not answering yet (no worker has run its first task): asked again
        fresh = []
        for state in states:
            key = (state.request.id, state.request.escalated)
            if state.status == "pending" and key not in self.seen:
                self.seen.add(key)
                fresh.append(state)
        return fresh


T = TypeVar("T")


async def answering(
    outcome: Awaitable[T],
    handle: WorkflowHandle[object, MissionResult],
    answer: Answer,
    poll: float = 0.1,
) -> T:
    """`outcome` (say, the mission's result), each approval request the mission
    waits on meanwhile handed to `answer`, one at a time. Whichever fails first,
    an answer or the outcome, raises; the other is stopped."""

    async def answer_all() -> None:
        asked = _Asked()
        while True:
            for state in await asked.new(handle):
                await answer(state)
            await asyncio.sleep(poll)

    answers = asyncio.ensure_future(answer_all())
    result = asyncio.ensure_future(outcome)
    try:
        await asyncio.wait([answers, result], return_when=asyncio.FIRST_COMPLETED)
        if answers.done():  # it never ends by itself: an answer failed
            answers.result()
        return await result
    finally:
        for task in (answers, result):
            task.cancel()
        await asyncio.gather(answers, result, return_exceptions=True)
