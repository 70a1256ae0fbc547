"""Line breaks inside a form: base64 or hex wrapped at any width of 8 or more
(`\\n` or `\\r\\n`, indented) is matched as if unwrapped."""

from __future__ import annotations

from typing import Any

import numpy as np

from sealed.redaction.known.forms import _B64

# --- line breaks inside a form --------------------------------------------------------

_MAX_INDENT = 16
_MAX_BREAK = 2 + _MAX_INDENT  # "\r\n" and the indentation after it
_MIN_LINE = 8  # narrower wrapping is deliberate splitting, not an encoder's
_BLANK = frozenset(b" \t")


def _lut(chars: bytes) -> np.ndarray[Any, np.dtype[np.bool_]]:
    table = np.zeros(256, dtype=np.bool_)
    table[list(chars)] = True
    return table


_WRAPPABLE = _lut(bytes(_B64))  # what a wrapped form (base64, hex) holds
_INDENT = _lut(b" \t")


def _wrap_extent(length: int) -> int:
    """The most bytes a match of `length` bytes covers with its line breaks."""
    return length + (length // _MIN_LINE + 1) * _MAX_BREAK


def _skip_break(data: bytes, i: int) -> int:
    """Past a line break (and the indentation after it) at i, or i."""
    n = len(data)
    if i < n and data[i] == 13 and i + 1 < n and data[i + 1] == 10:
        i += 2
    elif i < n and data[i] == 10:
        i += 1
    else:
        return i
    indent = i
    while i < n and i - indent < _MAX_INDENT and data[i] in _BLANK:
        i += 1
    return i


def _before_break(data: bytes, i: int) -> int:
    """The index of the character before i, across a line break (and the
    indentation) that ends just before i; -1 at the start."""
    j = i - 1
    while j >= 0 and i - 1 - j < _MAX_INDENT and data[j] in _BLANK:
        j -= 1
    if j >= 0 and data[j] == 10:
        j -= 1
        if j >= 0 and data[j] == 13:
            j -= 1
        return j
    return i - 1


def _unwrap(data: bytes, start: int, length: int) -> tuple[bytes, int] | None:
    """`length` bytes from `start` with line breaks skipped, and where they end."""
    out = bytearray()
    i, breaks = start, 0
    while True:
        need = length - len(out)
        newline = data.find(b"\n", i, i + need + 1)
        if newline == -1:
            out += data[i : i + need]
            i += need
            break
        end = newline - 1 if newline > i and data[newline - 1] == 13 else newline
        if end - i >= need:
            out += data[i : i + need]
            i += need
            break
        out += data[i:end]
        i = _skip_break(data, end)
        breaks += 1
        if breaks > length // _MIN_LINE + 1:
            return None
    return (bytes(out), i) if len(out) == length else None
