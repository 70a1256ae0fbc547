"""The mission's directive guard (Sealed V), inside the workflow: it keeps the
trace facts and the provenance index as the mission goes, evaluates every
call before it runs and every result as it comes back, and has what fired
written down. What the mission then does (refuse, hold, abort) is the
workflow's; everything here is deterministic."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sealed.contract import DIRECTIVE_ABORT, DIRECTIVE_EVENT
    from sealed.directives.engine import Firing, Verdict
    from sealed.directives.events import (
        DirectiveAbort,
        DirectiveEvent,
        DirectiveEventKind,
        Outcome,
        Violation,
    )
    from sealed.directives.tracker import Tracker
    from sealed.models import Message, MissionInput, ModelTurnOutput, ToolCall, ToolCallResult

# Written until written: a firing is never lost, and an abort's revocation
# is retried quickly (every second of it is a second the mission's
# credentials might still be used elsewhere).
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
)
_EXCERPT_MESSAGES = 4
_EXCERPT_CLIP = 160


class DirectiveAborts(Exception):
    """A directive whose action is `abort` fired: the mission stops."""

    def __init__(self, violation: Violation, events: list[DirectiveEvent]) -> None:
        super().__init__(f"directive {violation.policy}: {violation.reason}")
        self.violation = violation
        self.events = events


def excerpt(conversation: list[Message], verdict: Verdict, call: ToolCall) -> str:
    """The last few messages and the call (not for a turn: its reply is the
    last message), clipped: what the runtime already redacted (tool output and
    model replies are redacted on the way in)."""

    def clip(text: str) -> str:
        text = " ".join(text.split())
        return text if len(text) <= _EXCERPT_CLIP else text[: _EXCERPT_CLIP - 1] + "…"

    lines = []
    for message in conversation[-_EXCERPT_MESSAGES:]:
        if message.role == "tool":
            lines.append(f"{message.name}: {clip(message.content)}")
        elif message.role == "assistant":
            lines.append(f"model: {clip(message.content)}")
    if verdict.event != "turn":
        lines.append(f"call {call.name}({clip(json.dumps(call.arguments, sort_keys=True))})")
    return "\n".join(lines)


class DirectiveGuard:
    """The mission's Tracker, with the workflow's clock, and what fired
    written down through activities."""

    def __init__(self, input: MissionInput) -> None:
        self._mission_id = input.mission_id
        self._profile = input.spec.profile
        self.tracker = Tracker(input.mission_id, input.spec, workflow.info().start_time)

    @property
    def digest(self) -> str | None:
        """What the model-turn activity is told the mission holds: it sends
        the set again only when it has changed."""
        return self.tracker.digest

    def turned(
        self, reply: ModelTurnOutput, model: str, turn: int
    ) -> tuple[Verdict, ToolCall] | None:
        """The turn's verdict, and the turn as the subject a record names
        (the model, `turn-N`)."""
        verdict = self.tracker.turned(reply, model, workflow.now())
        return None if verdict is None else (verdict, ToolCall(id=f"turn-{turn}", name=model))

    def before(self, call: ToolCall) -> tuple[Verdict, dict[str, Any]] | None:
        return self.tracker.before(call, workflow.now())

    def after(
        self, call: ToolCall, result: ToolCallResult, context: dict[str, Any] | None
    ) -> Verdict | None:
        return self.tracker.after(call, result, context, workflow.now())

    async def record(
        self,
        verdict: Verdict,
        call: ToolCall,
        conversation: list[Message],
        outcome: Outcome | None,
    ) -> None:
        """Writes what fired: the enforced policies with `outcome` (what the
        runtime did), the watching ones as alerts or log_only."""
        text = excerpt(conversation, verdict, call)
        events = [
            self._event("directive.violated", verdict, firing, call, text, outcome)
            for firing in verdict.fired
            if outcome is not None
        ]
        for firing in verdict.watched:
            kind: DirectiveEventKind = (
                "directive.logged" if firing.mode == "log_only" else "directive.alert"
            )
            events.append(
                self._event(
                    kind, verdict, firing, call, text, "logged" if kind.endswith("d") else "alerted"
                )
            )
        for event in events:
            await workflow.execute_activity(
                DIRECTIVE_EVENT,
                event,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RECORD_RETRY,
            )

    def _event(
        self,
        kind: DirectiveEventKind,
        verdict: Verdict,
        firing: Firing,
        call: ToolCall,
        text: str,
        outcome: Outcome,
    ) -> DirectiveEvent:
        return DirectiveEvent(
            kind=kind,
            mission_id=self._mission_id,
            profile=self._profile,
            violation=Violation.of(firing, verdict.event, call.name, call.id, text),
            outcome=outcome,
        )

    def aborts(
        self, verdict: Verdict, call: ToolCall, conversation: list[Message]
    ) -> DirectiveAborts:
        """What stops the mission, for a verdict whose strongest action is abort."""
        firing = verdict.decisive
        assert firing is not None and firing.action == "abort"
        text = excerpt(conversation, verdict, call)
        return DirectiveAborts(
            Violation.of(firing, verdict.event, call.name, call.id, text),
            [
                self._event("directive.violated", verdict, f, call, text, "aborted")
                for f in verdict.fired
            ],
        )

    async def abort(self, stop: DirectiveAborts) -> None:
        """The mission's revocation (its credentials refused from now on, its
        live ones revoked) and the record of every policy that fired."""
        await workflow.execute_activity(
            DIRECTIVE_ABORT,
            DirectiveAbort(
                mission_id=self._mission_id,
                profile=self._profile,
                violation=stop.violation,
                events=stop.events,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RECORD_RETRY,
        )
