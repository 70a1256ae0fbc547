"""A Cedar file cut into its policies, each with the line it starts on: Cedar's
parser names a bad policy by its position (`policy3`), and a person needs the
file and line. A policy ends at a `;` outside strings and `//` comments."""

from __future__ import annotations

from typing import NamedTuple


class Statement(NamedTuple):
    line: int  # 1-based, of the statement's first character that is not space or comment
    text: str


def statements(text: str) -> list[Statement]:
    found: list[Statement] = []
    start: int | None = None
    start_line = line = 1
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n" or (char == "\r" and not text.startswith("\n", i + 1)):
            line += 1
        elif char == "/" and text.startswith("//", i):
            # Cedar ends a comment at a carriage return as well.
            end = min((e for e in (text.find("\n", i), text.find("\r", i)) if e >= 0), default=n)
            i = end
            continue
        elif not char.isspace():
            if start is None:
                start, start_line = i, line
            if char == '"':
                end = _string_end(text, i)
                line += text.count("\n", i, end)
                i = end
                continue
            if char == ";":
                found.append(Statement(start_line, text[start : i + 1]))
                start = None
        i += 1
    if start is not None:
        found.append(Statement(start_line, text[start:]))  # unterminated: the parser says so
    return found


def _string_end(text: str, i: int) -> int:
    """The index just past the string literal opening at `i` (or the end)."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        j += 1
    return len(text)
