"""Escapes, one kind at a time, one level, around the escapes only: the text
as percent-decoding, backslash-unescaping or entity-decoding would read it,
with every position mapped back to the original (numpy, no loop per escape)."""

from __future__ import annotations

import html.entities
import math
import string
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

# --- escapes: one kind at a time, one level, around the escapes only ----------------
#
# Found and decoded with numpy: an HTML page or a URL-encoded log has an escape
# every few bytes, too many for a Python loop. Each finder returns the escapes of
# its kind: where they start, how long they are, and what they decode to (up to
# `_WIDEST` bytes each, `lengths` of them), in order and apart.

_WIDEST = 6  # bytes an escape decodes to at most (two code points of an entity)


_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Bytes = np.ndarray[Any, np.dtype[np.uint8]]


class _Escapes(NamedTuple):
    starts: _Ints
    sizes: _Ints
    lengths: _Ints
    decoded: _Bytes  # (escapes, _WIDEST)


def _table(pairs: Iterable[tuple[int, int]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """A 256-entry lookup: -1 but for the pairs given."""
    table = np.full(256, -1, dtype=np.int64)
    for index, value in pairs:
        table[index] = value
    return table


_HEX_VALUE = _table((ord(c), int(c, 16)) for c in "0123456789abcdefABCDEF")
_DIGIT_VALUE = _table((ord(c), int(c)) for c in "0123456789")
_NAME_CHAR = _table((c, 1) for c in (string.ascii_letters + string.digits).encode())
# What a backslash before a character stands for: JSON's and JS's letters, and
# any ASCII punctuation for itself (`\/`, `\"`, Go's and shell's escapes).
_BACKSLASHED = _table(
    [(ord(c), ord(d)) for c, d in zip("bfnrt", "\b\f\n\r\t", strict=True)]
    + [(c, c) for c in b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]
)
_ENTITIES = {
    name[:-1].encode(): text.encode()
    for name, text in html.entities.html5.items()
    if name.endswith(";")
}
_NAME = 31  # the longest entity name
# The most bytes an escape takes per byte it decodes to (`&DiacriticalGrave;`
# is 18 bytes for one), and the longest escape.
_ESCAPE_RATIO = max(10, *(math.ceil((len(k) + 2) / len(v)) for k, v in _ENTITIES.items()))
_MAX_ESCAPE = _NAME + 2


def _hex_digits(text: _Bytes, first: _Ints, count: int) -> _Ints:
    """The value of `count` hex digits from each `first`, -1 if any is not one."""
    value = np.zeros(len(first), dtype=np.int64)
    for i in range(count):
        digit = _HEX_VALUE[text[first + i]]
        value = np.where((value < 0) | (digit < 0), -1, value * 16 + digit)
    return value


def _where_hex(
    where: np.ndarray[Any, np.dtype[np.bool_]], text: _Bytes, first: _Ints, count: int
) -> _Ints:
    """`_hex_digits` where `where`, -1 elsewhere (computed only there)."""
    value = np.full(len(first), -1, dtype=np.int64)
    value[where] = _hex_digits(text, first[where], count)
    return value


def _utf8(code_points: _Ints) -> tuple[_Ints, _Bytes]:
    """Each code point's UTF-8 length and bytes (vectorised `chr(c).encode()`)."""
    cp = code_points
    lengths = 1 + (cp >= 0x80) + (cp >= 0x800) + (cp >= 0x10000)
    out = np.zeros((len(cp), _WIDEST), dtype=np.uint8)
    lead = np.select(
        [lengths == 1, lengths == 2, lengths == 3],
        [cp, 0xC0 | (cp >> 6), 0xE0 | (cp >> 12)],
        0xF0 | (cp >> 18),
    )
    out[:, 0] = lead
    for j in range(1, 4):
        shift = 6 * np.maximum(lengths - 1 - j, 0)
        out[:, j] = np.where(j < lengths, 0x80 | ((cp >> shift) & 0x3F), 0)
    return lengths.astype(np.int64), out


def _valid_code_point(cp: _Ints) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return (cp > 0) & (cp <= 0x10FFFF) & ((cp < 0xD800) | (cp > 0xDFFF))


def _percent_escapes(text: _Bytes, n: int) -> _Escapes:
    """`%XX`, either case."""
    starts = np.flatnonzero(text[:n] == ord("%"))
    value = _hex_digits(text, starts + 1, 2)
    keep = value >= 0
    decoded = np.zeros((int(keep.sum()), _WIDEST), dtype=np.uint8)
    decoded[:, 0] = value[keep]
    ones = np.ones(len(decoded), dtype=np.int64)
    return _Escapes(starts[keep], 3 * ones, ones, decoded)


def _backslash_escapes(text: _Bytes, n: int) -> _Escapes:
    """`\\uXXXX` (either case; a surrogate pair as one), `\\xHH`, `\\n` and
    the other letters, a backslash before punctuation."""
    slashes = np.flatnonzero(text[:n] == ord("\\"))
    # In a run of backslashes every other one, from the first, starts an escape
    # (`\\\\n` is an escaped backslash, then `n`).
    first = np.ones(len(slashes), dtype=np.bool_)
    first[1:] = slashes[1:] != slashes[:-1] + 1
    index = np.arange(len(slashes))
    run_start = np.maximum.accumulate(np.where(first, index, 0))
    starts = slashes[(index - run_start) % 2 == 0]
    after = text[starts + 1]
    simple = _BACKSLASHED[after]
    x = _where_hex(after == ord("x"), text, starts + 2, 2)
    u = _where_hex(after == ord("u"), text, starts + 2, 4)
    # A high surrogate and the low one escaped right after it: one code point.
    high = (u >= 0xD800) & (u <= 0xDBFF) & (text[starts + 6] == ord("\\"))
    low = _where_hex(high & (text[starts + 7] == ord("u")), text, starts + 8, 4)
    pair = (low >= 0xDC00) & (low <= 0xDFFF)
    u = np.where(pair, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), u)
    lengths, decoded = _utf8(np.maximum(u, 0))
    is_u = (u >= 0) & _valid_code_point(u)
    sizes = np.select([is_u & pair, is_u, x >= 0, simple >= 0], [12, 6, 4, 2], 0)
    lengths = np.where(is_u, lengths, 1)
    decoded[~is_u, 0] = np.where(x >= 0, x, simple)[~is_u]
    decoded[~is_u, 1:] = 0
    keep = sizes > 0
    # The low half of a pair is not an escape of its own.
    keep &= ~np.isin(starts, starts[keep & is_u & pair] + 6)
    return _Escapes(starts[keep], sizes[keep], lengths[keep], decoded[keep])


def _entity_escapes(text: _Bytes, n: int) -> _Escapes:
    """HTML/XML character references: `&#NNN;`, `&#xHH;` (either case, padded)
    and every HTML5 name."""
    starts = np.flatnonzero(text[:n] == ord("&"))
    semis = np.append(np.flatnonzero(text[:n] == ord(";")), n)  # n: no `;` after
    ends = semis[np.searchsorted(semis, starts)]
    body = ends - starts - 1  # between & and ;
    plausible = (body >= 2) & (body <= _NAME) & (ends < n)
    starts, body = starts[plausible], body[plausible]
    width = int(body.max(initial=2))
    columns = np.arange(width)
    chars = np.where(columns < body[:, None], text[starts[:, None] + 1 + columns], 0)
    numeric = chars[:, 0] == ord("#")
    hexa = numeric & ((chars[:, 1] | 0x20) == ord("x"))
    code = np.zeros(len(starts), dtype=np.int64)
    digits_ok = body - 1 - hexa.astype(np.int64) >= 1
    for column in range(1, min(8, width)):  # up to 7 decimal digits after `#`, 6 hex after `#x`
        digit = np.where(hexa, _HEX_VALUE[chars[:, column]], _DIGIT_VALUE[chars[:, column]])
        used = (column < body) & ~(hexa & (column == 1))
        digits_ok &= ~used | (digit >= 0)
        code = np.where(used & (digit >= 0), code * np.where(hexa, 16, 10) + digit, code)
    numeric_ok = numeric & digits_ok & (body <= 8) & _valid_code_point(code)
    lengths, decoded = _utf8(np.where(numeric_ok, code, 0))
    sizes = np.where(numeric_ok, body + 2, 0)
    # Names: each distinct one looked up once.
    alphanumeric = (_NAME_CHAR[chars] > 0).sum(axis=1) == body
    named = np.flatnonzero(~numeric & alphanumeric & (chars[:, 0] >= ord("A")))
    if len(named):
        names = np.ascontiguousarray(chars[named].astype(np.uint8)).view(f"S{width}").ravel()
        distinct, which = np.unique(names, return_inverse=True)
        texts = [_ENTITIES.get(bytes(name)) for name in distinct]
        found = np.array([t is not None for t in texts])[which]
        table = np.zeros((len(distinct), _WIDEST), dtype=np.uint8)
        for i, t in enumerate(texts):
            table[i, : len(t or b"")] = np.frombuffer(t or b"", dtype=np.uint8)
        named = named[found]
        decoded[named] = table[which[found]]
        lengths[named] = np.array([len(t or b"") for t in texts], dtype=np.int64)[which[found]]
        sizes[named] = body[named] + 2
    keep = sizes > 0
    return _Escapes(starts[keep], sizes[keep], lengths[keep], decoded[keep])


# One kind of escaping each (an encoder uses one; mixing them is escaping twice):
# the character its escapes start with, and its finder. A finder reads the text
# as `_PAD` zero bytes past its end `n` (an escape cut off there is none).
_PAD = _NAME + 1
_ESCAPES: tuple[tuple[bytes, Callable[[_Bytes, int], _Escapes]], ...] = (
    (b"%", _percent_escapes),
    (b"\\", _backslash_escapes),
    (b"&", _entity_escapes),
)


def _escapes(data: bytes) -> list[_Escapes]:
    """The escapes of each kind the text has."""
    found: list[_Escapes] = []
    text: _Bytes | None = None
    for first, finder in _ESCAPES:
        if first in data:
            if text is None:
                text = np.frombuffer(data + bytes(_PAD), dtype=np.uint8)
            escapes = finder(text, len(data))
            fits = escapes.lengths <= escapes.sizes  # all but `&nGt;` and `&nLt;`
            if not fits.all():
                starts, sizes, lengths, decoded = escapes
                escapes = _Escapes(starts[fits], sizes[fits], lengths[fits], decoded[fits])
            if len(escapes.starts):
                found.append(escapes)
    return found


def _spread(starts: _Ints, counts: _Ints) -> _Ints:
    """starts[i], starts[i] + 1, ... counts[i] of each, in one array."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total)


class _View:
    """The text with one kind of escaping decoded (one level), in regions around
    its escapes (a match must lie within `reach` of one), apart; maps a span of
    the view back to the span of the text it came from (an escape maps whole).

    Built in place: each escape's decoded bytes (never more than the escape's)
    overwrite its first bytes, and the rest of it is dropped."""

    def __init__(self, data: bytes, escapes: _Escapes, reach: int) -> None:
        text = np.frombuffer(data, dtype=np.uint8)
        self._starts, self._sizes, lengths, decoded = escapes
        starts, sizes = self._starts, self._sizes
        # Regions: each escape, `reach` around it and a byte ahead for a zero
        # byte (no form holds one) that keeps regions apart; overlapping ones merged.
        low = starts - reach - 1
        high = np.maximum.accumulate(np.minimum(starts + sizes + reach, len(text)))
        new = np.ones(len(starts), dtype=np.bool_)
        new[1:] = low[1:] > high[:-1]
        region_starts = np.maximum(low[new], 0)
        region_sizes = high[np.r_[np.flatnonzero(new)[1:] - 1, len(starts) - 1]] - region_starts
        offsets = np.cumsum(region_sizes) - region_sizes
        self._regions, self._offsets = region_starts, offsets
        view = np.concatenate(
            [
                text[a : a + size]
                for a, size in zip(region_starts.tolist(), region_sizes.tolist(), strict=True)
            ]
        )
        apart = low[new] >= 0
        view[offsets[apart]] = 0
        self._separators = region_starts[apart]
        # Where each escape is in `view`, its decoded bytes over its first ones.
        if len(region_starts) == 1:
            at = starts - region_starts[0]
        else:
            region = np.searchsorted(region_starts, starts, side="right") - 1
            at = starts - region_starts[region] + offsets[region]
        view[at] = decoded[:, 0]
        for j in range(1, int(lengths.max())):
            some = lengths > j
            view[at[some] + j] = decoded[some, j]
        keep = np.ones(len(view), dtype=np.bool_)
        drops = sizes - lengths
        for j in range(int(drops.max())):  # the rest of each escape goes
            keep[(at + lengths + j)[drops > j] if j >= drops.min() else at + lengths + j] = False
        self._keep = keep
        self._kept: _Ints | None = None
        self.data = view[keep].tobytes()

    def _origin(self, covered: int) -> int:
        region = int(np.searchsorted(self._offsets, covered, side="right")) - 1
        return covered - int(self._offsets[region]) + int(self._regions[region])

    def original(self, start: int, end: int) -> tuple[int, int] | None:
        """The text's span for the view's [start, end), None across two regions."""
        if self._kept is None:  # matches are rare: only then
            self._kept = np.flatnonzero(self._keep)
        first, last = self._origin(int(self._kept[start])), self._origin(int(self._kept[end - 1]))
        between = int(np.searchsorted(self._separators, first))
        if between < len(self._separators) and self._separators[between] <= last:
            return None
        # An escape maps whole.
        i = int(np.searchsorted(self._starts, first, side="right")) - 1
        if i >= 0 and first < self._starts[i] + self._sizes[i]:
            first = int(self._starts[i])
        j = int(np.searchsorted(self._starts, last, side="right")) - 1
        if j >= 0 and last < self._starts[j] + self._sizes[j]:
            return first, int(self._starts[j] + self._sizes[j])
        return first, last + 1
