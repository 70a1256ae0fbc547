"""Text from a model or a tool, made safe to print on an operator's terminal.

Tool output and model-chosen names can carry control sequences: an escape can
erase lines, fake an `[ok]`, retitle the window or write the clipboard (OSC 52).
Every control character is shown as its visible picture instead (ESC as ␛), so
an attempt stays visible and can do nothing; bidi overrides, which reorder what
is shown, and characters that render as nothing (zero-width, soft hyphen, tag
characters), which make a split value read whole, are shown as �."""

from __future__ import annotations

import re

from sealed.redaction.hidden import TAG_OFFSET, TAGS, ZERO_WIDTH

_C0 = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\n\t"}
_DEL = {0x7F: 0x2421}
_C1 = dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], 0xFFFD)
_INVISIBLE = re.compile(f"[{ZERO_WIDTH}{TAGS}]")
_HIDDEN = {
    code: 0xFFFD
    for code in [*range(0xAD, 0x2065), 0xFEFF, *range(TAG_OFFSET, TAG_OFFSET + 0x80)]
    if _INVISIBLE.match(chr(code))
}
_PRINTABLE = {**_C0, **_DEL, **_C1, **_BIDI, **_HIDDEN}


def printable(text: str) -> str:
    return text.translate(_PRINTABLE)
