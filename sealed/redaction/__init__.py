"""Redaction (Sealed III-B): every text crossing the activity boundary is
scrubbed of known values (known.py) and secret-shaped strings (patterns/) by the
redactor (redactor.py), and outside text is screened for prompt injection
(injection/).

Importing this package is cheap: each name below loads its module (numpy, the
compiled rules) on first use, and hyperscan loads only when a scan needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

_MODULES = {
    "findings": ("Finding",),
    "injection": (
        "FENCE_HEADER",
        "HeuristicDetector",
        "InjectionDetector",
        "InjectionVerdict",
        "is_fenced",
        "neutralise",
    ),
    "known": ("KnownValues", "fingerprint", "mission_key"),
    "patterns": ("find_secrets", "hyperscan_available"),
    "redactor": ("Redaction", "Redactor", "StreamRedactor"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
