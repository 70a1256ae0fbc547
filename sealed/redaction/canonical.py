"""The canonical view of a text, as a reader (or a model) takes it in: hidden
characters removed (tag characters read as the ASCII they mirror), JSON
`\\uXXXX` (and `\\/`) escapes and HTML/XML character references decoded, and
compatibility forms folded (NFKC, character by character). A secret split by a
zero-width space, spelled in entities or in fullwidth letters is whole again
there, so redaction looks at this view too; every position of the view maps
back to the span of the original text it came from, and the original is what
gets redacted.

NFKC is applied per character: fullwidth letters, ligatures, mathematical
alphanumerics, superscripts and the like fold to what they stand for; a
combining mark is not composed with the letter before it (a secret made of
ASCII has none), and the compatibility ideographs past U+1FFFF, which fold to
other ideographs, are left as they are.

Speed: a text of ASCII without `\\` or `&` costs a few scans in C (no view is
made); escapes and entities are found by literal-led regexes and the
characters that fold by a lookup table over the text's code points (numpy), so
Python only touches what changes."""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from functools import cache, lru_cache
from typing import Any

import numpy as np

from sealed.redaction.hidden import BIDI, TAG_OFFSET, TAGS, ZERO_WIDTH

_HIDDEN_RE = re.compile(f"[{ZERO_WIDTH}{BIDI}{TAGS}]")
# Each led by its one literal, so SRE skips to it in C (a character class in
# front would cost ten times as much). `\\\\` is matched so that an escaped
# backslash is skipped whole: in `\\\\u0041` the `u0041` is text, not an escape.
_BACKSLASH_RE = re.compile(
    r"\\(?:\\|/|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4})"
)
_ENTITY_RE = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,6};?|#[0-9]{1,7};?|[A-Za-z][A-Za-z0-9]{1,31};)")
# Code points the lookup table covers; past it only the tag characters change.
_TABLE_SIZE = 0x20000
_TAG_FIRST, _TAG_LAST = TAG_OFFSET, TAG_OFFSET + 0x7F


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character as the view has it."""
    if _HIDDEN_RE.match(char):
        code = ord(char) - TAG_OFFSET
        return chr(code) if 0x20 <= code <= 0x7E else ""
    return unicodedata.normalize("NFKC", char)


def _changes(char: str) -> bool:
    # A lone surrogate (from a broken decode) has no fold: it stays.
    return not 0xD800 <= ord(char) <= 0xDFFF and _fold(char) != char


@cache
def _folding() -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which code points under _TABLE_SIZE the view changes. Made once, in
    ~0.08 s: blocks that are NFKC and hold no hidden character are skipped
    whole (a character that NFKC changes makes its block not NFKC), the rest
    halved down to 16 code points, checked one by one."""
    table = np.zeros(_TABLE_SIZE, dtype=np.bool_)
    every = "".join(" " if 0xD800 <= c <= 0xDFFF else chr(c) for c in range(_TABLE_SIZE))

    def walk(low: int, high: int) -> None:
        block = every[low:high]
        if unicodedata.is_normalized("NFKC", block) and not _HIDDEN_RE.search(block):
            return
        if high - low <= 16:
            table[low:high] = [_changes(chr(c)) for c in range(low, high)]
            return
        middle = (low + high) // 2
        walk(low, middle)
        walk(middle, high)

    walk(0, _TABLE_SIZE)
    return table


@lru_cache(maxsize=4096)
def _decoded(token: str) -> str:
    """An escape or entity as the view has it: decoded, then folded."""
    if token == "\\\\":
        return token
    if token == "\\/":
        return "/"
    if token.startswith("\\u"):
        if len(token) == 12:  # a surrogate pair
            high, low = int(token[2:6], 16), int(token[8:12], 16)
            decoded = chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        else:
            code = int(token[2:], 16)
            if 0xD800 <= code <= 0xDFFF:
                return token  # a lone surrogate stays as written
            decoded = chr(code)
    else:
        decoded = html.unescape(token)
    return decoded if decoded.isascii() else "".join(_fold(c) for c in decoded)


def _folded_chars(text: str) -> list[tuple[int, int, str]]:
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # Past the table only the tag characters change; the table's last entry
    # (unassigned) stands for every other code point past it.
    changing = _folding()[np.minimum(codes, _TABLE_SIZE - 1)]
    if codes.max() >= _TAG_FIRST:
        changing |= (codes >= _TAG_FIRST) & (codes <= _TAG_LAST)
    return [(i, i + 1, _fold(text[i])) for i in np.flatnonzero(changing).tolist()]


class Canonical:
    """A text's canonical view and the map back to the original's positions."""

    def __init__(self, text: str, changes: list[tuple[int, int, int, int]]) -> None:
        self.text = text
        # (original start, original end, view start, view end) of each change, in order.
        self._changes = changes
        self._view_starts = [c[2] for c in changes]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the view's [start, end) came from:
        a change cut by the span counts whole."""
        return self._position(start, end=False), self._position(end, end=True)

    def _position(self, offset: int, *, end: bool) -> int:
        # The change holding the character at `offset` (its last one for an end), or
        # the last change before it: past that one, view and original move together.
        at = offset - 1 if end else offset
        i = bisect_right(self._view_starts, at) - 1
        if i < 0:
            return offset
        orig_start, orig_end, _, view_end = self._changes[i]
        if at < view_end:
            return orig_end if end else orig_start
        return orig_end + (offset - view_end)


def canonical(text: str) -> Canonical | None:
    """The canonical view of `text`, or None when it is the text itself."""
    ascii_ = text.isascii()
    if ascii_ and "\\" not in text and "&" not in text:
        return None
    tokens = [
        (m.start(), m.end(), view)
        for regex, lead in ((_BACKSLASH_RE, "\\"), (_ENTITY_RE, "&"))
        if lead in text
        for m in regex.finditer(text)
        if (view := _decoded(m[0])) != m[0]
    ]
    if not ascii_:
        tokens += _folded_chars(text)
    if not tokens:
        return None
    tokens.sort()  # escapes, entities and characters never overlap
    pieces: list[str] = []
    changes: list[tuple[int, int, int, int]] = []
    last = length = 0
    for start, end, view in tokens:
        pieces += [text[last:start], view]
        length += start - last
        changes.append((start, end, length, length + len(view)))
        length += len(view)
        last = end
    pieces.append(text[last:])
    return Canonical("".join(pieces), changes)
