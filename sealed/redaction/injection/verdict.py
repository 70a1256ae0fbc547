"""What a screen returns, the interface any detector implements, and the
noisy-OR that turns per-signal weights into a verdict."""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

THRESHOLD = 0.5
INSTRUCTION_OVERRIDE = "instruction_override"
ROLE_IMPERSONATION = "role_impersonation"
SECRET_REQUEST = "secret_request"
TOOL_CALL_INSTRUCTION = "tool_call_instruction"
EXFILTRATION_LINK = "exfiltration_link"
HIDDEN_TEXT = "hidden_text"
# In the order a verdict lists them.
SIGNALS = (
    INSTRUCTION_OVERRIDE,
    ROLE_IMPERSONATION,
    SECRET_REQUEST,
    TOOL_CALL_INSTRUCTION,
    EXFILTRATION_LINK,
    HIDDEN_TEXT,
)


class InjectionVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    flagged: bool
    score: float = Field(ge=0.0, le=1.0)
    # Signal names only, never text from the input.
    signals: list[str] = Field(default_factory=list)


@runtime_checkable
class InjectionDetector(Protocol):
    """Anything that screens a text: the heuristic detector, or later a classifier."""

    def screen(self, text: str) -> InjectionVerdict: ...


def combine(weights: dict[str, float], threshold: float = THRESHOLD) -> InjectionVerdict:
    """Noisy-OR over per-signal weights: a detector plugged in later can reuse it."""
    score = 1.0 - math.prod(1.0 - min(max(w, 0.0), 1.0) for w in weights.values())
    score = round(min(max(score, 0.0), 1.0), 4)
    order = {name: i for i, name in enumerate(SIGNALS)}
    names = sorted(weights, key=lambda n: (order.get(n, len(order)), n))
    return InjectionVerdict(flagged=score >= threshold, score=score, signals=names)
