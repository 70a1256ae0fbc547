"""Finding the fingerprinted forms in a text: the keyed 8-byte hash slid over
it with numpy, candidates confirmed by HMAC, in the text as it is, across line
breaks and in its decoded views."""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from sealed.models import Fingerprint
from sealed.redaction.known.escapes import _ESCAPE_RATIO, _MAX_ESCAPE, _escapes, _spread, _View
from sealed.redaction.known.forms import (
    _B64,
    _B64_CHARS,
    _CHUNK,
    _TABLE_BITS,
    ANCHOR,
    CHECK,
    _multiplier,
    _raw_digest,
)
from sealed.redaction.known.wrapping import (
    _INDENT,
    _MAX_INDENT,
    _WRAPPABLE,
    _before_break,
    _skip_break,
    _unwrap,
    _wrap_extent,
)

# --- matching -------------------------------------------------------------------------


class KnownValues:
    """Finds the fingerprinted forms in a text."""

    def __init__(self, key: bytes, fingerprints: Iterable[Fingerprint]) -> None:
        self._key = key
        self._mul_int = _multiplier(key)
        self._mul = np.uint64(self._mul_int)
        # Each known form's fingerprint and digest (as bytes), by anchor.
        by_anchor: dict[int, list[tuple[Fingerprint, bytes]]] = defaultdict(list)
        for fp in fingerprints:
            entry = (fp, bytes.fromhex(fp.digest))
            if entry not in by_anchor[fp.anchor]:
                by_anchor[fp.anchor].append(entry)
        self._by_anchor = dict(by_anchor)
        self._table = np.zeros(1 << _TABLE_BITS, dtype=np.bool_)
        self._table[list(self._by_anchor)] = True
        # The second filter, when every fingerprint has its check: a candidate
        # must pass both 20-bit hashes, so a common word of the text that happens
        # to share an anchor costs nothing (without it, thousands of HMACs).
        checks = [fp.check for fps in self._by_anchor.values() for fp, _ in fps]
        self._check_mul = np.uint64(_multiplier(key, CHECK))
        self._checks: np.ndarray[Any, np.dtype[np.bool_]] | None = None
        if checks and None not in checks:
            self._checks = np.zeros(1 << _TABLE_BITS, dtype=np.bool_)
            self._checks[[c for c in checks if c is not None]] = True
        # The longest match: a base64 core widens by a character on each side
        # and over its padding.
        self.max_length = max(
            (fp.length + 4 * fp.widen for fps in self._by_anchor.values() for fp, _ in fps),
            default=0,
        )
        # ... with its line breaks, and then with every byte escaped.
        self._reach = _wrap_extent(self.max_length)
        self.max_extent = _ESCAPE_RATIO * self._reach + _MAX_ESCAPE

    def __bool__(self) -> bool:
        return bool(self._by_anchor)

    def find(self, data: bytes) -> list[tuple[int, int, str]]:
        """(start, end, secret name) of every match, in byte offsets: in the text
        as it is, and where it has escapes, in the text with them decoded."""
        if not self._by_anchor or len(data) < ANCHOR:
            return []
        found = self._scan(data)
        for escapes in _escapes(data):
            view = _View(data, escapes, self._reach)
            for start, end, name in self._scan(view.data):
                span = view.original(start, end)
                if span is not None:
                    found.append((*span, name))
        return found

    def find_starting(self, data: bytes, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """The matches of `find(data)` that start in [lo, hi), found in that
        part of `data` and around it: a match's length and as much again for
        what is read beside it (a base64 core's neighbours, a line break). The
        parts of a text are scanned on separate threads."""
        margin = 2 * self.max_extent
        before, after = max(0, lo - margin), min(len(data), hi + margin)
        return [
            (before + start, before + end, name)
            for start, end, name in self.find(data[before:after])
            if lo <= before + start < hi
        ]

    def holdback(self, tail: bytes) -> int:
        """How many bytes at the end of a text a stream must keep: a match may
        still be incomplete in them. `tail` is the text's last `max_extent`
        bytes (or all of it)."""
        kept = self._reach if b"\n" in tail[-self._reach :] else self.max_length
        for escapes in _escapes(tail):
            # Back from the end until `reach` decoded bytes are kept (an escape
            # cut off at the end counts its bytes undecoded: more than it decodes to).
            counts = np.ones(len(tail), dtype=np.int64)
            counts[_spread(escapes.starts + 1, escapes.sizes - 1)] = 0
            counts[escapes.starts] = escapes.lengths
            from_end = np.cumsum(counts[::-1])
            enough = int(np.searchsorted(from_end, self._reach))
            kept = max(kept, min(enough + 1, len(tail)))
        return kept

    def _scan(self, data: bytes) -> list[tuple[int, int, str]]:
        if len(data) < ANCHOR:
            return []
        found = []
        key, size, by_anchor = self._key, len(data), self._by_anchor
        # Repetitive text (logs) repeats false candidates: each text once.
        digests: dict[bytes, bytes] = {}
        positions, anchors = self._candidates(data)
        for position, anchor in zip(positions, anchors, strict=True):
            for fp, digest in by_anchor[anchor]:
                end = position + fp.length
                form = data[position:end]
                # A base64 core holds base64 only: most candidates fail that for free.
                if end <= size and not (fp.widen and form.translate(None, _B64_CHARS)):
                    mac = digests.get(form)
                    if mac is None:
                        mac = digests[form] = hmac.digest(key, form, "sha256")[:16]
                    if hmac.compare_digest(mac, digest):
                        found.append(self._widened(data, position, end, fp))
                        continue
                # Wrapped over lines? Base64 or hex (or a token of their
                # characters) up to the first break.
                newline = form.find(b"\n")
                if newline == -1:
                    if not form.endswith(b"\r"):
                        continue
                    newline = len(form)
                if form[:newline].rstrip(b"\r").translate(None, _B64_CHARS):
                    continue
                unwrapped = _unwrap(data, position, fp.length)
                if unwrapped and hmac.compare_digest(_raw_digest(key, unwrapped[0]), digest):
                    found.append(self._widened(data, position, unwrapped[1], fp))
        return found

    def _candidates(self, data: bytes) -> tuple[list[int], list[int]]:
        """Positions where an 8-byte window hashes to a known anchor, and the
        anchors. In chunks that keep numpy's temporaries in cache: twice as fast
        as one pass."""
        # Every 8-byte window as a little-endian integer, without copying.
        windows = np.ndarray(
            shape=(len(data) - ANCHOR + 1,), dtype="<u8", buffer=data, strides=(1,)
        )
        size = min(_CHUNK, len(windows))
        hashes = np.empty(size, dtype=np.uint64)
        hits = np.empty(size, dtype=np.bool_)
        found: list[np.ndarray[Any, Any]] = []
        for start in range(0, len(windows), _CHUNK):
            n = min(_CHUNK, len(windows) - start)
            np.multiply(windows[start : start + n], self._mul, out=hashes[:n])
            np.right_shift(hashes[:n], np.uint64(64 - _TABLE_BITS), out=hashes[:n])
            # As signed indices (they are under 2**20) and unchecked: numpy would
            # otherwise cast and bounds-check every one of a MiB of them.
            np.take(self._table, hashes[:n].view(np.int64), out=hits[:n], mode="clip")
            found.append(np.flatnonzero(hits[:n]) + start)
        # The few candidates hashed again, all at once: per chunk, each numpy
        # call would cost more than its work.
        candidates = np.concatenate(found)
        window = windows[candidates]
        checked = self._checked(window)
        positions: list[int] = candidates[checked].tolist()
        anchors: list[int] = ((window[checked] * self._mul) >> np.uint64(64 - _TABLE_BITS)).tolist()
        breaks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        self._across_breaks(data, breaks, positions, anchors)
        return positions, anchors

    def _across_breaks(
        self, data: bytes, breaks: np.ndarray[Any, Any], positions: list[int], anchors: list[int]
    ) -> None:
        """Candidates whose first 8 bytes a line break cuts: hash the windows
        that straddle each break between two characters of base64 or hex."""
        text = np.frombuffer(data, dtype=np.uint8)
        n = len(text)
        breaks = breaks[(breaks > 1) & (breaks < n - 1)]
        ends = breaks - (text[breaks - 1] == 13)  # the line's content ends here
        keep = _WRAPPABLE[text[ends - 1]]
        ends, starts = ends[keep], breaks[keep] + 1
        indented = np.flatnonzero(_INDENT[text[starts]])
        for _ in range(_MAX_INDENT):  # ... and the next line's after its indentation
            indented = indented[starts[indented] < n - 1]  # a last blank: no line after it
            if not len(indented):
                break
            starts[indented] += 1
            indented = indented[_INDENT[text[starts[indented]]]]
        keep = _WRAPPABLE[text[starts]]
        ends, starts = ends[keep], starts[keep]
        if not len(ends):
            return
        # Per break, the 8 bytes up to it and the 8 from the next line's start,
        # side by side (shifted where the text's ends are nearer than 8, zeros
        # past them); the 7 windows that join them start 1 to 7 bytes into that.
        loads = np.ndarray(shape=(n - ANCHOR + 1,), dtype="<u8", buffer=data, strides=(1,))
        joined = np.empty((len(ends), 2), dtype=np.uint64)
        low = np.maximum(ends - ANCHOR, 0)
        joined[:, 0] = loads[low] << (np.uint64(8) * (low - ends + ANCHOR).astype(np.uint64))
        high = np.minimum(starts, n - ANCHOR)
        joined[:, 1] = loads[high] >> (np.uint64(8) * (starts - high).astype(np.uint64))
        # Row k-1: the windows with k bytes before the break, one per break.
        straddling = np.ndarray(
            shape=(ANCHOR - 1, len(ends)),
            dtype="<u8",
            buffer=joined,
            offset=ANCHOR - 1,
            strides=(-1, 2 * ANCHOR),
        )
        hashes = (straddling * self._mul) >> np.uint64(64 - _TABLE_BITS)
        found = np.flatnonzero(self._table[hashes])
        row, i = np.divmod(found, len(ends))
        inside = ends[i] > row  # the window starts inside the text
        found, row, i = found[inside], row[inside], i[inside]
        checked = self._checked(straddling[row, i])
        positions += (ends[i[checked]] - row[checked] - 1).tolist()
        anchors += hashes.ravel()[found[checked]].tolist()

    def _checked(self, windows: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which of these candidate windows also pass the second hash."""
        if self._checks is None:
            return np.ones(len(windows), dtype=np.bool_)
        passed: np.ndarray[Any, np.dtype[np.bool_]] = self._checks[
            (windows * self._check_mul) >> np.uint64(64 - _TABLE_BITS)
        ]
        return passed

    @staticmethod
    def _widened(data: bytes, start: int, end: int, fp: Fingerprint) -> tuple[int, int, str]:
        """A base64 core's neighbours carry bits of the value too: the span takes
        the character on each side (across a line break) and the padding."""
        if fp.widen:
            before = _before_break(data, start)
            if before >= 0 and data[before] in _B64:
                start = before
            after = _skip_break(data, end)
            if after < len(data) and data[after] in _B64:
                end = after + 1
            for _ in range(2):
                after = _skip_break(data, end)
                if after < len(data) and data[after] == ord("="):
                    end = after + 1
        return start, end, fp.name
