"""The redactor: known values (any encoding) and secret-shaped patterns, each
match span replaced whole by `[REDACTED:<secret name or rule id>]`. Idempotent:
a redacted text has nothing left to redact. `StreamRedactor` does the same to a
text that arrives in chunks, holding back just enough to catch a value split
across a chunk boundary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from sealed.redaction.known import KnownValues

# The longest pattern match a stream must be able to see whole (a PEM key).
PATTERN_HOLDBACK = 8192


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str  # "known:<secret name>" or a pattern rule id
    start: int
    end: int


class Redaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.rule for f in self.findings))


PatternFinder = Callable[[str], Sequence[tuple[str, int, int]]]


def _default_patterns() -> PatternFinder:
    from sealed.redaction.rules import find_secrets

    return lambda text: [(f.rule, f.start, f.end) for f in find_secrets(text)]


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, named by the earliest (a known value wins a tie)."""
    merged: list[tuple[int, int, str]] = []
    for start, end, rule in sorted(spans, key=lambda s: (s[0], not s[2].startswith("known:"))):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, rule))
    return merged


def _label(rule: str) -> str:
    return rule.removeprefix("known:")


class Redactor:
    def __init__(
        self,
        known: KnownValues | None = None,
        patterns: PatternFinder | None = None,
        *,
        pattern_holdback: int = PATTERN_HOLDBACK,
    ) -> None:
        self.known = known
        self._patterns = patterns or _default_patterns()
        self._pattern_holdback = pattern_holdback

    @property
    def holdback(self) -> int:
        """How much of a stream must wait: the longest match there can be."""
        return max(self.known.max_length if self.known else 0, self._pattern_holdback)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        if self.known:
            data = text.encode()
            ascii_only = len(data) == len(text)
            for start, end, name in self.known.find(data):
                if not ascii_only:  # byte offsets to character offsets
                    start, end = len(data[:start].decode()), len(data[:end].decode())
                spans.append((start, end, f"known:{name}"))
        spans += [(start, end, rule) for rule, start, end in self._patterns(text)]
        return _merge(spans)

    def redact(self, text: str) -> Redaction:
        spans = self.spans(text)
        out, last = [], 0
        for start, end, rule in spans:
            out += [text[last:start], f"[REDACTED:{_label(rule)}]"]
            last = end
        out.append(text[last:])
        findings = [Finding(rule=rule, start=s, end=e) for s, e, rule in spans]
        return Redaction(text="".join(out), findings=findings)


class StreamRedactor:
    """Redacts a text fed in chunks; what it emits never holds a value, even
    one split across chunks. `flush()` at the end emits the rest."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._buffer = ""
        self.findings: list[Finding] = []
        self._offset = 0

    def feed(self, chunk: str) -> str:
        self._buffer += chunk
        cut = len(self._buffer) - self._redactor.holdback
        if cut <= 0:
            return ""
        spans = self._redactor.spans(self._buffer)
        # Never cut inside a match: a match ending past the cut waits whole.
        for start, end, _ in spans:
            if start < cut < end:
                cut = start
        return self._emit(cut, [s for s in spans if s[1] <= cut])

    def flush(self) -> str:
        return self._emit(len(self._buffer), self._redactor.spans(self._buffer))

    def _emit(self, cut: int, spans: list[tuple[int, int, str]]) -> str:
        head, self._buffer = self._buffer[:cut], self._buffer[cut:]
        out, last = [], 0
        for start, end, rule in spans:
            out += [head[last:start], f"[REDACTED:{_label(rule)}]"]
            last = end
            self.findings.append(
                Finding(rule=rule, start=self._offset + start, end=self._offset + end)
            )
        out.append(head[last:])
        self._offset += cut
        return "".join(out)
