"""Redaction (Sealed III-B): every text crossing the activity boundary goes
through a per-call screen (screen.py), which scrubs known values (known.py) and
secret-shaped strings (patterns/) with the redactor (redactor.py), and screens
outside text for prompt injection (injection/)."""

from sealed.redaction.findings import Finding
from sealed.redaction.injection import (
    FENCE_HEADER,
    HeuristicDetector,
    InjectionDetector,
    InjectionVerdict,
    is_fenced,
    neutralise,
)
from sealed.redaction.known import KnownValues, fingerprint, mission_key
from sealed.redaction.patterns import find_secrets, hyperscan_available
from sealed.redaction.redactor import Redaction, Redactor, StreamRedactor

__all__ = [
    "FENCE_HEADER",
    "Finding",
    "HeuristicDetector",
    "InjectionDetector",
    "InjectionVerdict",
    "KnownValues",
    "Redaction",
    "Redactor",
    "StreamRedactor",
    "find_secrets",
    "fingerprint",
    "hyperscan_available",
    "is_fenced",
    "mission_key",
    "neutralise",
]
