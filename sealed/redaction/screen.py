"""The per-call screen: Sealed III-B at the activity boundary. One `Screen` is
opened per activity attempt with the mission's known fingerprints; every text
that crosses the boundary goes through one of its methods, and closing it
writes what it found as a single audit batch (counts and signal names, never
values).

- `issue`: values this attempt was just given (a tool's secrets, the model's
  key) join the known values, and their fingerprints are handed back to the
  workflow so every later activity masks them without holding them;
- `prompt_out`: the system prompt, goal and conversation going to the model;
- `reply_in`: the model's reply (text and tool-call arguments), which may echo
  what a tool leaked; `reply_stream` for its text as it streams in, chunk by
  chunk;
- `tool_output`: a tool's output or error, redacted, screened for prompt
  injection and, if flagged, fenced as untrusted data;
- `error`: an exception's text as it may leave the activity (its message may
  quote a secret, and reaches history and the SDK's log).

Every crossing masks the same things: known values, secret-shaped strings
and PII, less the PII kinds the mission's profile may process
(`redaction.allow_pii`, given by the activity from the registered profile).

Fails closed: if redaction raises, so does the crossing, and the activity
fails without anything unredacted leaving it."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from sealed.audit import AuditEvent, AuditLog
from sealed.identity.backend import SecretValue
from sealed.models import Fingerprint, Message, ModelReply, ModelRequest, ToolCall
from sealed.redaction.injection import (
    HeuristicDetector,
    InjectionDetector,
    neutralise,
    strip_hidden,
)
from sealed.redaction.known import KnownValues, fingerprint, mission_key
from sealed.redaction.patterns import finder
from sealed.redaction.redactor import Redactor, StreamRedactor


class RedactionKeys(Protocol):
    async def master(self) -> bytes:
        """The worker-wide key the per-mission fingerprint keys derive from."""
        ...


class ScreenedOutput(BaseModel):
    """A tool's output as the model may read it, and the injection signals found."""

    model_config = ConfigDict(frozen=True)

    text: str
    flags: list[str]
    redactions: int = 0


class ScreenedStream:
    """A stream's redactor that counts what it finds into its screen's audit."""

    def __init__(self, stream: StreamRedactor, counts: Counter[str]) -> None:
        self._stream = stream
        self._counts = counts
        self._counted_so_far = 0

    def feed(self, chunk: str) -> str:
        return self._counted(self._stream.feed(chunk))

    def flush(self) -> str:
        return self._counted(self._stream.flush())

    def _counted(self, text: str) -> str:
        found = self._stream.findings[self._counted_so_far :]
        self._counts.update(f.rule for f in found)
        self._counted_so_far += len(found)
        return text


class Screen:
    def __init__(
        self,
        *,
        mission_id: str,
        key: bytes,
        known: Sequence[Fingerprint],
        detector: InjectionDetector,
        where: str,
        tool: str | None,
        allow_pii: frozenset[str] = frozenset(),
    ) -> None:
        self.mission_id = mission_id
        self.where = where
        self.tool = tool
        self.issued: list[Fingerprint] = []
        self._key = key
        self._known = list(known)
        self._detector = detector
        # Refuses anything but PII rules: known values and secrets stay masked.
        self._patterns = finder(allow_pii)
        self._redactor: Redactor | None = None
        self._counts: Counter[str] = Counter()
        self._signals: list[str] = []

    # --- the crossings -------------------------------------------------------------

    def issue(self, secrets: Mapping[str, SecretValue]) -> None:
        new = [
            fp
            for secret in secrets.values()
            for fp in fingerprint(self._key, secret.name, secret.reveal())
        ]
        if new:
            self.issued += new
            self._redactor = None  # rebuilt with the new values on next use

    def prompt_out(self, request: ModelRequest) -> ModelRequest:
        return request.model_copy(
            update={
                "system_prompt": self._text(request.system_prompt),
                "goal": self._text(request.goal),
                "conversation": [self._message(m) for m in request.conversation],
            }
        )

    def reply_in(self, reply: ModelReply) -> ModelReply:
        return ModelReply(
            content=self._text(reply.content), tool_calls=self._calls(reply.tool_calls)
        )

    def reply_stream(self) -> ScreenedStream:
        """The model's reply text as it streams in: each chunk redacted before
        anything else sees it (what could be the start of a value split across
        chunks waits for the next), its findings counted with this screen's."""
        return ScreenedStream(StreamRedactor(self._active), self._counts)

    @property
    def redactions(self) -> int:
        """Values redacted so far, in every crossing of this screen."""
        return sum(self._counts.values())

    def tool_output(self, text: str) -> ScreenedOutput:
        before = self.redactions
        redacted = self._text(text)
        verdict = self._detector.screen(redacted)
        signals = list(verdict.signals) if verdict.flagged else []
        self._signals += signals
        neutralised = neutralise(redacted, verdict)
        if strip_hidden(redacted) != redacted:
            # Neutralising stripped hidden characters, which can join a value
            # they split: redaction runs again, as the very last step.
            neutralised = self._text(neutralised)
        return ScreenedOutput(text=neutralised, flags=signals, redactions=self.redactions - before)

    def error(self, message: str, details: Sequence[Any] = ()) -> tuple[str, list[Any]]:
        """An error's message and details, redacted. Details become JSON-shaped
        (anything else by its text) so that no object carries a value past it."""
        jsonable = [to_jsonable_python(d, fallback=str) for d in details]
        return self._text(message), [self._json(d) for d in jsonable]

    # --- what closing writes --------------------------------------------------------

    def events(self) -> list[AuditEvent]:
        events = []
        if self._counts:
            details: dict[str, str | int | float | bool | None] = {"where": self.where}
            details.update(self._counts)
            events.append(
                AuditEvent(
                    kind="redaction", mission_id=self.mission_id, tool=self.tool, details=details
                )
            )
        if self._signals:
            events.append(
                AuditEvent(
                    kind="injection.detected",
                    mission_id=self.mission_id,
                    tool=self.tool,
                    outcome="neutralised",
                    details={"where": self.where, "signals": ",".join(self._signals)},
                )
            )
        return events

    # --- helpers ---------------------------------------------------------------------

    @property
    def _active(self) -> Redactor:
        if self._redactor is None:
            known = KnownValues(self._key, [*self._known, *self.issued])
            self._redactor = Redactor(known, self._patterns)
        return self._redactor

    def _text(self, text: str) -> str:
        result = self._active.redact(text)
        self._counts.update(result.counts())
        return result.text

    def _json(self, value: Any) -> Any:
        """Every string in JSON-shaped tool-call arguments, keys included."""
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, list):
            return [self._json(v) for v in value]
        if isinstance(value, dict):
            return {self._text(k): self._json(v) for k, v in value.items()}
        return value

    def _calls(self, calls: list[ToolCall]) -> list[ToolCall]:
        # A model chooses a call's name and id as freely as its arguments, and
        # both are kept in history, shown by the status query and quoted in
        # refusals: they cross the boundary redacted like the rest.
        return [
            ToolCall(
                id=self._text(c.id), name=self._text(c.name), arguments=self._json(c.arguments)
            )
            for c in calls
        ]

    def _message(self, message: Message) -> Message:
        return message.model_copy(
            update={
                "content": self._text(message.content),
                "tool_calls": self._calls(message.tool_calls),
            }
        )


class Screens:
    """Opens a Screen per activity attempt; the worker holds one."""

    def __init__(
        self, keys: RedactionKeys, audit: AuditLog, detector: InjectionDetector | None = None
    ) -> None:
        self._keys = keys
        self._audit = audit
        self.detector: InjectionDetector = detector or HeuristicDetector()

    @contextlib.asynccontextmanager
    async def open(
        self,
        mission_id: str,
        known: Sequence[Fingerprint],
        *,
        where: str,
        tool: str | None = None,
        allow_pii: Collection[str] = (),
    ) -> AsyncIterator[Screen]:
        """`allow_pii`: the PII rules the mission's registered profile may
        process unmasked (its `redaction.allow_pii`)."""
        key = mission_key(await self._keys.master(), mission_id)
        screen = Screen(
            mission_id=mission_id,
            key=key,
            known=known,
            detector=self.detector,
            where=where,
            tool=tool,
            allow_pii=frozenset(allow_pii),
        )
        try:
            yield screen
        finally:
            events = screen.events()
            if events:
                await asyncio.to_thread(self._audit.record_many, events)
