"""What crosses the activity boundary (Sealed III-B): every text going to the
model or coming back from it or from a tool is redacted of the mission's issued
values and of secret-shaped strings, and outside text is screened for prompt
injection and neutralised, before the workflow (and so the next model turn)
sees it. Each redaction and detection is an audit event: counts, never values."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any, Protocol

from temporalio.exceptions import ApplicationError

from sealed.audit import AuditEvent, AuditLog
from sealed.identity.backend import SecretUnavailable, SecretValue
from sealed.identity.vault import VaultWorker, read_kv
from sealed.models import Fingerprint, Message, ToolCall
from sealed.redaction.injection import HeuristicDetector, InjectionDetector, neutralise
from sealed.redaction.known import KnownValues, fingerprint, mission_key
from sealed.redaction.redactor import Redaction, Redactor

REDACTION_KEY_PATH = "sealed/redaction/key"


class RedactionKeys(Protocol):
    async def master(self) -> bytes:
        """The worker-wide key the per-mission fingerprint keys derive from."""
        ...


class VaultRedactionKey:
    """Read once with the worker's own identity; never in history or logs."""

    def __init__(self, worker: VaultWorker) -> None:
        self._worker = worker
        self._key: bytes | None = None

    async def master(self) -> bytes:
        if self._key is None:
            data = await self._worker.acall(
                "redaction key", lambda c: read_kv(c, REDACTION_KEY_PATH)
            )
            if data is None:
                raise SecretUnavailable("redaction key: not provisioned")
            self._key = base64.b64decode(str(data["value"]))
        return self._key


class StaticRedactionKey:
    def __init__(self, key: bytes) -> None:
        self._key = key

    async def master(self) -> bytes:
        return self._key


def _redact_json(value: Any, redactor: Redactor, counts: dict[str, int]) -> Any:
    if isinstance(value, str):
        result = redactor.redact(value)
        for rule, n in result.counts().items():
            counts[rule] = counts.get(rule, 0) + n
        return result.text
    if isinstance(value, list):
        return [_redact_json(v, redactor, counts) for v in value]
    if isinstance(value, dict):
        return {k: _redact_json(v, redactor, counts) for k, v in value.items()}
    return value


class Boundary:
    def __init__(
        self,
        keys: RedactionKeys,
        audit: AuditLog,
        detector: InjectionDetector | None = None,
    ) -> None:
        self._keys = keys
        self._audit = audit
        self.detector: InjectionDetector = detector or HeuristicDetector()

    async def redactor(
        self,
        mission_id: str,
        known: list[Fingerprint],
        issued: Mapping[str, SecretValue] | None = None,
    ) -> tuple[Redactor, list[Fingerprint]]:
        """A redactor for the mission's known values, plus fingerprints of
        `issued` (values this activity was just given) to hand back."""
        key = mission_key(await self._keys.master(), mission_id)
        new = [
            fp
            for secret in (issued or {}).values()
            for fp in fingerprint(key, secret.name, secret.reveal())
        ]
        return Redactor(KnownValues(key, [*known, *new])), new

    def redact_json(self, value: Any, redactor: Redactor, counts: dict[str, int]) -> Any:
        """Every string in `value` (a text, or JSON-shaped tool-call arguments)."""
        return _redact_json(value, redactor, counts)

    def redact_calls(
        self, calls: list[ToolCall], redactor: Redactor, counts: dict[str, int]
    ) -> list[ToolCall]:
        return [
            c.model_copy(update={"arguments": _redact_json(c.arguments, redactor, counts)})
            for c in calls
        ]

    def redact_message(
        self, message: Message, redactor: Redactor, counts: dict[str, int]
    ) -> Message:
        return message.model_copy(
            update={
                "content": _redact_json(message.content, redactor, counts),
                "tool_calls": self.redact_calls(message.tool_calls, redactor, counts),
            }
        )

    async def record_event(self, event: AuditEvent) -> None:
        await asyncio.to_thread(self._audit.record, event)

    async def record(
        self,
        mission_id: str,
        where: str,
        counts: Mapping[str, int],
        *,
        tool: str | None = None,
        injection: list[str] | None = None,
    ) -> None:
        events = []
        if counts:
            details: dict[str, str | int | float | bool | None] = {"where": where}
            details.update(counts)
            events.append(
                AuditEvent(kind="redaction", mission_id=mission_id, tool=tool, details=details)
            )
        if injection:
            events.append(
                AuditEvent(
                    kind="injection.detected",
                    mission_id=mission_id,
                    tool=tool,
                    outcome="neutralised",
                    details={"where": where, "signals": ",".join(injection)},
                )
            )
        if events:
            await asyncio.to_thread(self._audit.record_many, events)

    def sanitised(self, exc: BaseException, redactor: Redactor) -> ApplicationError:
        """An exception as it may leave the activity: same type name (the retry
        policy decides on it), message redacted, no traceback of the original."""
        message = redactor.redact(f"{type(exc).__name__}: {exc}").text
        return ApplicationError(message, type=type(exc).__name__)

    async def tool_output(
        self, mission_id: str, tool: str, text: str, redactor: Redactor
    ) -> tuple[str, list[str]]:
        """Redacted, screened and (if flagged) neutralised tool output, and the
        injection signals found."""
        redaction: Redaction = redactor.redact(text)
        verdict = self.detector.screen(redaction.text)
        signals = list(verdict.signals) if verdict.flagged else []
        await self.record(
            mission_id, "tool_output", redaction.counts(), tool=tool, injection=signals
        )
        return neutralise(redaction.text, verdict), signals
