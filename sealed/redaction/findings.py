"""What redaction reports: one `Finding` per redacted span, and the one rule
that turns overlapping matches (of pattern rules, of known values) into them."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

# Spans of known values are named "known:<secret name>".
KNOWN_PREFIX = "known:"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str  # "known:<secret name>" or a pattern rule id
    start: int
    end: int


# start, end, rank (lower names the union first), name
Span = tuple[int, int, int, str]


def merge(spans: Iterable[Span]) -> list[Finding]:
    """Ordered, non-overlapping findings. Overlapping spans become their union,
    named after its best-ranked member: the lowest rank, then the earliest start,
    then the first given. Spans that only touch stay apart."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], s[2])):
        start, end, rank, name = span
        if merged and start < merged[-1][1]:
            first, last, best, best_name = merged[-1]
            if rank < best:
                best, best_name = rank, name
            merged[-1] = (first, max(last, end), best, best_name)
        else:
            merged.append(span)
    return [Finding(rule=name, start=start, end=end) for start, end, _, name in merged]
