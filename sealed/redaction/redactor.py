"""The redactor: known values (any encoding) and secret-shaped patterns, found
in the text and in its canonical view (hidden characters removed, escapes and
entities decoded, NFKC: canonical.py), each match span of the text replaced
whole by `[REDACTED:<secret name or rule id>]`. Idempotent:
a redacted text has nothing left to redact. `StreamRedactor` does the same to a
text that arrives in chunks, holding back just enough to catch a value split
across a chunk boundary."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pydantic import BaseModel, ConfigDict

from sealed.redaction.canonical import canonical
from sealed.redaction.findings import KNOWN_PREFIX, Finding, Span, merge
from sealed.redaction.known import KnownValues
from sealed.redaction.patterns import find_secrets

# The longest pattern match a stream must be able to see whole (a PEM key).
PATTERN_HOLDBACK = 8192


class Redaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.rule for f in self.findings))


# From this size on, a text's two scans run side by side (below, a thread
# hand-off would cost more than it saves).
PARALLEL_FROM = 64 * 1024


@cache
def _scans() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="redaction")


# Pattern findings of a text, as `find_secrets` returns them: ordered, non-overlapping.
PatternFinder = Callable[[str], Sequence[Finding]]


def _replace(text: str, findings: Sequence[Finding]) -> str:
    out, last = [], 0
    for f in findings:
        out += [text[last : f.start], f"[REDACTED:{f.rule.removeprefix(KNOWN_PREFIX)}]"]
        last = f.end
    out.append(text[last:])
    return "".join(out)


class Redactor:
    def __init__(
        self,
        known: KnownValues | None = None,
        patterns: PatternFinder | None = None,
        *,
        pattern_holdback: int = PATTERN_HOLDBACK,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        self.known = known
        self._patterns = patterns or find_secrets
        self._pattern_holdback = pattern_holdback
        self._parallel_from = parallel_from

    @property
    def holdback(self) -> int:
        """How much of a stream must wait at the least: the longest match there
        can be in a text without escapes or line breaks."""
        return max(self.known.max_length if self.known else 0, self._pattern_holdback)

    def holdback_for(self, text: str) -> int:
        """How much of `text`, the head of a stream, must wait: a known value
        escaped or wrapped spans more than its length, and hidden characters
        (any number of them) stretch any match."""
        known = self.known.holdback(text[-self.known.max_extent :].encode()) if self.known else 0
        need = window = max(known, self._pattern_holdback)
        while 0 < window < len(text):
            view = canonical(text[-window:])
            if view is None or len(view.text) >= need:
                break
            window *= 2
        return min(window, len(text))

    def spans(self, text: str) -> list[Finding]:
        """What to redact in `text`: known values and pattern findings, in the
        text and in its canonical view (mapped back), merged. All rank the same
        (the patterns were ranked by find_secrets when it merged them), so the
        earliest start names a union, a known value (given first) on a tie:
        `Basic <base64 of user:secret>` stays a basic-auth-header."""
        spans = self._found(text)
        view = canonical(text)
        if view is not None:
            for start, end, rank, name in self._found(view.text):
                spans.append((*view.original(start, end), rank, name))
        return merge(spans)

    def _found(self, text: str) -> list[Span]:
        known = self.known
        data = text.encode() if known else b""
        # A large text's known-value scan runs in two halves on other threads
        # while the patterns scan on this one: all three release the GIL
        # (numpy, hyperscan).
        halves = []
        if known and len(data) >= self._parallel_from:
            middle = len(data) // 2
            halves = [
                _scans().submit(known.find_starting, data, lo, hi)
                for lo, hi in ((0, middle), (middle, len(data)))
            ]
        patterns: list[Span] = [(f.start, f.end, 0, f.rule) for f in self._patterns(text)]
        if not known:
            return patterns
        found = [m for half in halves for m in half.result()] if halves else known.find(data)
        if len(data) != len(text):  # byte offsets to character offsets, in one pass
            chars, last = {0: 0}, 0
            for offset in sorted({o for start, end, _ in found for o in (start, end)}):
                chars[offset] = chars[last] + len(data[last:offset].decode())
                last = offset
            found = [(chars[start], chars[end], name) for start, end, name in found]
        # Known values first: on a tie, the merged span is named after them.
        return [(start, end, 0, KNOWN_PREFIX + name) for start, end, name in found] + patterns

    def redact(self, text: str) -> Redaction:
        findings = self.spans(text)
        return Redaction(text=_replace(text, findings), findings=findings)


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
        cut = len(self._buffer) - self._redactor.holdback_for(self._buffer)
        if cut <= 0:
            return ""
        spans = self._redactor.spans(self._buffer)
        # Never cut inside a match: a match ending past the cut waits whole.
        for f in spans:
            if f.start < cut < f.end:
                cut = f.start
        return self._emit(cut, [f for f in spans if f.end <= cut])

    def flush(self) -> str:
        return self._emit(len(self._buffer), self._redactor.spans(self._buffer))

    def _emit(self, cut: int, spans: list[Finding]) -> str:
        head, self._buffer = self._buffer[:cut], self._buffer[cut:]
        self.findings += [
            Finding(rule=f.rule, start=self._offset + f.start, end=self._offset + f.end)
            for f in spans
        ]
        self._offset += cut
        return _replace(head, spans)
