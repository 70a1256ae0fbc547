"""What the audit log records: one event per credential access, approval,
redaction, violation or revocation. An event names things (kind, mission,
profile, tool, secret NAME, lease id) and never carries a value: the model has
no field a value could ride in, and `details` holds small scalars only."""

from __future__ import annotations

from typing import Any, Final, Literal, get_args

import structlog
from pydantic import BaseModel, ConfigDict, FiniteFloat
from structlog.typing import EventDict

# A new kind is one more string here: the Literal keeps typos out of the log.
AuditKind = Literal[
    "credential.issued",
    "credential.used",
    "credential.renewed",
    "credential.revoked",
    "credential.refused",
    "revocation.added",
    "revocation.lifted",
    "mission.aborted",
    "prompt.pinned",
    "prompt.tampered",
    "model.usage",
    "approval.requested",
    "approval.notified",
    "approval.decided",
    "approval.rejected",
    "approval.timed_out",
    "approval.escalated",
    "redaction",
    "injection.detected",
    "directive.violated",
    "directive.alert",
    "directive.logged",
    "curation.exported",
    "curation.dropped",
]
AUDIT_KINDS: Final[tuple[str, ...]] = get_args(AuditKind)

GENESIS: Final = "0" * 64

# One JSON form for hashing and for the line itself, so a line is exactly the
# canonical form of what it says: any byte changed is either non-canonical or a
# different record. No `default`: anything not plainly JSON is a bug, not a fallback.
_CANON: Final[dict[str, Any]] = {
    "sort_keys": True,
    "separators": (",", ":"),
    "ensure_ascii": True,
    "allow_nan": False,
    "default": None,
}
_render = structlog.processors.JSONRenderer(**_CANON)

Scalar = str | int | FiniteFloat | bool | None


class AuditEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AuditKind
    mission_id: str | None = None
    profile: str | None = None
    tool: str | None = None
    secret: str | None = None  # the secret's name, never its value
    lease_id: str | None = None  # lease id or accessor: revocable, not usable
    outcome: str = "ok"
    reason: str | None = None
    actor: str | None = None
    details: dict[str, Scalar] = {}


class AuditRecord(AuditEvent):
    seq: int
    # Kept as the exact string written, so a record re-renders to its line byte for byte.
    ts: str
    prev: str
    hash: str

    def to_line(self) -> str:
        """The record as it stands in the log, byte for byte."""
        return canonical(self.model_dump(mode="json")).decode("ascii")


class VerifyReport(BaseModel):
    ok: bool
    records: int
    first_bad_line: int | None = None
    problem: str | None = None
    # The anchor to keep elsewhere: truncation at the end is invisible without it.
    last_hash: str | None = None


def canonical(data: EventDict) -> bytes:
    return str(_render(None, "", data)).encode("ascii")
