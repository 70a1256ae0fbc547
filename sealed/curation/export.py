"""One export: each finished mission either becomes a line of the training
file or is dropped with a reason, and the whole is one audit event.

A mission is exported only if
- its profile, as registered now, is exportable and not revoked (the ACL:
  the profile's owner allows it, no mission can);
- every tool whose output it read is one the profile's `exportable.tools`
  lists (when it lists them);
- no tool output carries an injection flag (unless flagged ones are asked for);
- its original prompt is in the prompt store, matching its digest;
- every tool it was offered is in this machine's registry (the record
  describes them);
- once redacted again (known values, every pattern rule), the finished line
  holds nothing any of them finds, nor does what the model chose that no
  redaction rewrites (call names, ids, argument keys) as it wrote them: the
  line holds those in other forms (names with dots made dashes, ids and keys
  escaped twice more), which a value can hide behind.

Dropped missions are audited one by one (mission, profile, reason: names and
rule ids, never a value); the export's event names the missions written and
the file's SHA-256, and is on record before the file is in place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sealed.audit import AuditEvent, AuditLog
from sealed.curation.chat_format import chat_record
from sealed.curation.history import FinishedMission
from sealed.curation.scrub import Scrubber, as_chosen
from sealed.curation.selection import Selection
from sealed.curation.writer import JsonlWriter
from sealed.identity.profiles import ExportPolicy, Profile
from sealed.models import OriginalPrompt
from sealed.pinning import PromptTampered
from sealed.redaction import Redactor
from sealed.tools import ToolDef


class Registry(Protocol):
    """OpenBao as an operator reads it (sealed.curation.registered)."""

    def profile(self, name: str) -> Profile | None: ...

    def revoked(self, profile: str) -> bool: ...

    def original(self, digest: str) -> OriginalPrompt:
        """Verified against `digest`; PromptTampered when missing or altered."""
        ...

    def redaction_key(self) -> bytes: ...


class Dropped(BaseModel):
    model_config = ConfigDict(frozen=True)

    mission_id: str
    profile: str | None = None
    reason: str


class ExportReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path | None = Field(description="None: nothing was exported, no file written")
    sha256: str | None = None
    exported: list[str]
    dropped: list[Dropped]
    redactions: int = Field(description="values redacted again on the way out")


def export_policy(registry: Registry, name: str) -> ExportPolicy | str:
    """What the profile, as registered, lets be exported of its missions;
    or why nothing is."""
    profile = registry.profile(name)
    if profile is None:
        return f"profile '{name}' is not registered (`sealed profiles apply` it)"
    if registry.revoked(name):
        return f"profile '{name}' is revoked"
    return profile.export_policy() or (
        f"profile '{name}' is not exportable: set `exportable: true` (or "
        "`exportable: {tools: [...]}`) in its file and `sealed profiles apply` it"
    )


def _format_problems(exc: ValidationError) -> str:
    # Where and what kind, never the input: it is the conversation.
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())


class _Drop(Exception):
    pass


_REASONS = Redactor()


class Export:
    def __init__(
        self,
        writer: JsonlWriter,
        registry: Registry,
        tools: Mapping[str, ToolDef],
        *,
        selection: Selection,
        include_flagged: bool = False,
    ) -> None:
        self._writer = writer
        self._registry = registry
        self._tools = tools
        self._selection = selection
        self._include_flagged = include_flagged
        self._master: bytes | None = None
        self._policies: dict[str, ExportPolicy | str] = {}
        self.exported: list[str] = []
        self.dropped: list[Dropped] = []
        self.redactions = 0

    def exportable(self, name: str) -> ExportPolicy | str:
        """export_policy, asked once per profile and export."""
        if name not in self._policies:
            self._policies[name] = export_policy(self._registry, name)
        return self._policies[name]

    def drop(self, mission_id: str, reason: str, profile: str | None = None) -> None:
        # Reasons are made of names and rule ids; a secret-shaped one is masked all the same.
        said = _REASONS.redact(reason).text
        self.dropped.append(Dropped(mission_id=mission_id, profile=profile, reason=said))

    def add(self, mission: FinishedMission) -> bool:
        """Writes the mission's line, or drops it with the reason; True if written."""
        try:
            line = self._line(mission)
        except _Drop as exc:
            self.drop(mission.mission_id, str(exc), mission.profile)
            return False
        self._writer.write(line)
        self.exported.append(mission.mission_id)
        return True

    def _line(self, mission: FinishedMission) -> str:
        if mission.result.status not in self._selection.statuses:
            raise _Drop(f"it ended {mission.result.status.value}")
        if self._selection.profile not in (None, mission.profile):
            raise _Drop(f"it ran under profile '{mission.profile}'")
        policy = self.exportable(mission.profile)
        if isinstance(policy, str):
            raise _Drop(policy)
        spec = mission.mission.spec
        outputs = [m for m in mission.conversation if m.role == "tool"]
        withheld = {m.name or "" for m in outputs if not policy.allows(m.name or "")}
        if withheld:
            # Named if the mission offered them; the model named the others.
            named = sorted(withheld & set(spec.tools))
            unnamed = len(withheld) - len(named)
            what = ", ".join(named + ([f"{unnamed} tool(s) not offered to it"] if unnamed else []))
            raise _Drop(f"it read {what}, whose output the profile does not export")
        flagged = sorted({signal for m in outputs for signal in m.flags})
        if flagged and not self._include_flagged:
            raise _Drop(f"injection flags ({', '.join(flagged)}); --include-flagged exports it")
        if not mission.conversation:
            raise _Drop("its model never answered")
        try:
            original = self._registry.original(OriginalPrompt.of(spec).digest())
        except PromptTampered as exc:
            raise _Drop(str(exc)) from None
        unknown = [name for name in spec.tools if name not in self._tools]
        if unknown:
            raise _Drop(f"tools unknown here (SEALED_TOOL_MODULES): {', '.join(unknown)}")
        if self._master is None:
            self._master = self._registry.redaction_key()
        scrub = Scrubber(self._master, mission.mission_id, mission.known)
        try:
            record = chat_record(
                scrub.prompt(original),
                [scrub.message(m) for m in mission.conversation],
                [self._tools[name].info() for name in spec.tools],
            )
        except ValidationError as exc:
            raise _Drop(f"not in the fine-tuning format: {_format_problems(exc)}") from None
        line = record.line()
        # And what the model chose that no redaction rewrites, as it wrote it:
        # the line holds names, ids and keys in forms no check decodes.
        chosen = as_chosen(mission.conversation)
        left = sorted({*scrub.leftovers(line), *scrub.leftovers(chosen)})
        if left:
            raise _Drop(f"still matches after redaction: {', '.join(left)}")
        self.redactions += scrub.redactions
        return line

    def finish(self, audit: AuditLog, actor: str) -> ExportReport:
        """The drops and the export on record, then the file in place; with
        nothing exported, no file."""
        events = [
            AuditEvent(
                kind="curation.dropped",
                mission_id=d.mission_id,
                profile=d.profile,
                outcome="dropped",
                reason=d.reason,
                actor=actor,
            )
            for d in self.dropped
        ]
        digest = None
        if self.exported:
            self._writer.flush()
            digest = self._writer.sha256()
            events.append(
                AuditEvent(
                    kind="curation.exported",
                    profile=self._selection.profile,
                    actor=actor,
                    details={
                        "file": str(self._writer.path.resolve()),
                        "sha256": digest,
                        "records": len(self.exported),
                        "missions": ",".join(self.exported),
                        "dropped": len(self.dropped),
                        "selection": self._selection.describe(),
                        "include_flagged": self._include_flagged,
                    },
                )
            )
        if events:
            audit.record_many(events)
        if self.exported:
            self._writer.commit()
        return ExportReport(
            path=self._writer.path if self.exported else None,
            sha256=digest,
            exported=self.exported,
            dropped=self.dropped,
            redactions=self.redactions,
        )
