"""The observatory (Sealed audit): every credential access, approval, redaction,
violation and revocation is an event in a tamper-evident, hash-chained log."""

from sealed.audit.events import (
    AUDIT_KINDS,
    GENESIS,
    AuditEvent,
    AuditKind,
    AuditRecord,
    VerifyReport,
)
from sealed.audit.log import AuditError, AuditLog

__all__ = [
    "AUDIT_KINDS",
    "GENESIS",
    "AuditError",
    "AuditEvent",
    "AuditKind",
    "AuditLog",
    "AuditRecord",
    "VerifyReport",
]
