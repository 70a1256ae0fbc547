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

Speed: a text of ASCII without `\\` or `&` costs two scans in C (no view is
made). Otherwise each kind of escape is cut out by `split` on a literal-led
regex (in C) and the characters that fold are found by a lookup table over the
text's code points (numpy), so Python touches each escape or folded character
once: ~20-40 ms for a MiB of HTML with an entity every 30 characters."""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import numpy as np

from sealed.redaction.hidden import BIDI, TAG_OFFSET, TAGS, ZERO_WIDTH

_HIDDEN_RE = re.compile(f"[{ZERO_WIDTH}{BIDI}{TAGS}]")
# Each led by its one literal, so SRE skips to it in C. `\\\\` is matched so
# that an escaped backslash is skipped whole: in `\\\\u0041` the `u0041` is
# text, not an escape.
_BACKSLASH_RE = re.compile(
    r"(\\(?:\\|/|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}))"
)
_ENTITY_RE = re.compile(r"(&(?:#[xX][0-9a-fA-F]{1,6};?|#[0-9]{1,7};?|[A-Za-z][A-Za-z0-9]{1,31};))")
# Code points the lookup table covers; past it only the tag characters change.
_TABLE_SIZE = 0x20000
_TAG_FIRST, _TAG_LAST = TAG_OFFSET, TAG_OFFSET + 0x7F


@functools.lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character as the view has it."""
    if _HIDDEN_RE.match(char):
        code = ord(char) - TAG_OFFSET
        return chr(code) if 0x20 <= code <= 0x7E else ""
    return unicodedata.normalize("NFKC", char)


def _changes(char: str) -> bool:
    # A lone surrogate (from a broken decode) has no fold: it stays.
    return not 0xD800 <= ord(char) <= 0xDFFF and _fold(char) != char


@functools.cache
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


@functools.lru_cache(maxsize=4096)
def _decoded(token: str) -> str:
    """An escape or entity as the view has it: decoded, then folded; a
    character, folded."""
    if len(token) == 1:
        return _fold(token)
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


def _cut(text: str, starts: list[int], ends: list[int]) -> list[str]:
    """`text` as text, token, text, ..., token, text for tokens at [start, end)."""
    cuts = [0, *(i for pair in zip(starts, ends, strict=True) for i in pair), len(text)]
    return [text[i:j] for i, j in itertools.pairwise(cuts)]


def _folded(text: str) -> tuple[list[str], list[str]] | None:
    """`text` cut around the characters that fold, and what each folds to."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # Past the table only the tag characters change; the table's last entry
    # (unassigned) stands for every other code point past it.
    changing = _folding()[np.minimum(codes, _TABLE_SIZE - 1)]
    if codes.max() >= _TAG_FIRST:
        changing |= (codes >= _TAG_FIRST) & (codes <= _TAG_LAST)
    positions = np.flatnonzero(changing)
    if not len(positions):
        return None
    parts = _cut(text, positions.tolist(), (positions + 1).tolist())
    return parts, [_fold(char) for char in parts[1::2]]


def _escaped(regex: re.Pattern[str], lead: str, text: str) -> tuple[list[str], list[str]] | None:
    """`text` cut around one kind of escape (`split` on a literal-led regex:
    in C, where one regex for both kinds, led by either character, or a loop
    over matches in Python costs 20 times as much), and what each decodes to."""
    if lead not in text:
        return None
    parts = regex.split(text)
    return (parts, [_decoded(token) for token in parts[1::2]]) if len(parts) > 1 else None


class _Map:
    """Where each token of a rewrite starts, in the original and in the
    rewritten text, with one more entry each for where it ends."""

    def __init__(self, parts: list[str], shown: list[str]) -> None:
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        shown_lengths = np.fromiter(map(len, shown), dtype=np.int64, count=len(shown))
        ends, shown_ends = np.cumsum(lengths), np.cumsum(shown_lengths)
        self._tokens = len(parts) // 2
        self._original: list[int] = [*ends[0:-1:2].tolist(), *ends[1::2].tolist()]
        self._shown: list[int] = [*shown_ends[0:-1:2].tolist(), *shown_ends[1::2].tolist()]

    def position(self, offset: int, *, end: bool) -> int:
        # The token holding the character at `offset` (its last one for an end), or
        # the last token before it: past that one, both texts move together.
        at = offset - 1 if end else offset
        i = bisect_right(self._shown, at, hi=self._tokens) - 1
        if i < 0:
            return offset
        orig_end, shown_end = self._original[self._tokens + i], self._shown[self._tokens + i]
        if at < shown_end:
            return orig_end if end else self._original[i]
        return orig_end + (offset - shown_end)


class Canonical:
    """A text's canonical view and the map back to the original's positions."""

    def __init__(self, text: str, maps: list[_Map]) -> None:
        self.text = text
        self._maps = maps  # in the order the rewrites were made

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the view's [start, end) came from:
        an escape, entity or folded character cut by the span counts whole."""
        for rewrite in reversed(self._maps):
            start, end = rewrite.position(start, end=False), rewrite.position(end, end=True)
        return start, end


def canonical(text: str) -> Canonical | None:
    """The canonical view of `text`, or None when it is the text itself.
    Characters fold first, so an entity spelled in fullwidth is decoded too;
    backslash escapes are decoded before entities (JSON carrying HTML)."""
    maps = []
    rewrites: list[Callable[[str], tuple[list[str], list[str]] | None]] = [
        functools.partial(_escaped, _BACKSLASH_RE, "\\"),
        functools.partial(_escaped, _ENTITY_RE, "&"),
    ]
    for rewrite in rewrites if text.isascii() else [_folded, *rewrites]:
        cut = rewrite(text)
        if cut is None or cut[1] == cut[0][1::2]:
            continue
        parts, views = cut
        shown = parts.copy()
        shown[1::2] = views
        maps.append(_Map(parts, shown))
        text = "".join(shown)
    return Canonical(text, maps) if maps else None
