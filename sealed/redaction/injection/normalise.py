"""The text as the injection rules read it: obfuscations decoded (JSON escapes,
HTML entities, Unicode tag characters, zero-width and bidi characters, NFKC,
Cyrillic/Greek look-alikes, base64), and the hidden_text weight of what was hidden."""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from collections.abc import Iterable

from sealed.redaction.hidden import BIDI, TAGS, ZERO_WIDTH
from sealed.redaction.injection.catalogue import (
    HIDDEN_EMBEDDING,
    HIDDEN_OVERRIDE,
    HIDDEN_TAGS,
    HIDDEN_ZERO_WIDTH,
    HIDDEN_ZERO_WIDTH_MANY,
)

# --- hidden characters -----------------------------------------------------------

_HIDDEN_RE = re.compile(f"[{ZERO_WIDTH}{BIDI}{TAGS}]")
_TAG_RUN_RE = re.compile(f"[{TAGS}]+")
_ZW_BIDI_RE = re.compile(f"[{ZERO_WIDTH}{BIDI}]")
# Emoji subdivision flags (England: U+1F3F4 + tag letters + cancel tag) are
# the one legitimate use of tag characters.
_FLAG_TAGS_RE = re.compile(
    "\U0001f3f4([\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7})\U000e007f"
)
# Hidden characters written as JSON escapes, as they appear in raw tool output.
_ESCAPED_HIDDEN_RE = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u(?:00[aA][dD]|034[fF]|180[eE]|200[b-fB-F]|206[0-4]"
    r"|[fF][eE][fF][fF]|202[a-eA-E]|206[6-9]|[dD][bB]40\\u[dD][cC][0-7][0-9a-fA-F])"
)
# ZWJ/ZWNJ/LRM/RLM/soft hyphen are legitimate in emoji, Indic, Persian, RTL and
# hyphenated text; they count as hiding only when they touch an ASCII letter.
_ZW_SOFT = frozenset("\u200c\u200d\u200e\u200f\u00ad")
_ZW_ONLY_RE = re.compile(f"[{ZERO_WIDTH}]")
# Overrides (LRO/RLO) reorder what a human sees, the trick of Trojan Source and
# spoofed file names; embeddings and isolates also occur in genuine RTL text.
_OVERRIDE_RE = re.compile("[\u202d\u202e]")
_BIDI_RE = re.compile(f"[{BIDI}]")
_RLO_SPAN_RE = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")


def _decode_tags(run: re.Match[str]) -> str:
    # Tag characters mirror ASCII at U+E0000: they smuggle text a human cannot see.
    ascii_ = "".join(chr(ord(c) - 0xE0000) for c in run[0] if 0xE0020 <= ord(c) <= 0xE007E)
    return f" {ascii_} " if ascii_ else ""


def _hidden_signals(text: str) -> tuple[str, float]:
    """Text with hidden characters decoded or removed, and the hidden_text weight."""
    weight = 0.0
    if not _HIDDEN_RE.search(text):
        return text, weight
    text = _FLAG_TAGS_RE.sub("\U0001f3f4", text)
    if _TAG_RUN_RE.search(text):
        weight = HIDDEN_TAGS
        text = _TAG_RUN_RE.sub(_decode_tags, text)
    zero_width = 0
    for m in _ZW_ONLY_RE.finditer(text):
        i, c = m.start(), m[0]
        if c in _ZW_SOFT:
            zero_width += (i > 0 and text[i - 1].isascii() and text[i - 1].isalnum()) or (
                i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum()
            )
        else:
            zero_width += not (c == "\ufeff" and i == 0)  # a leading BOM is just a BOM
        if zero_width >= 16:
            break
    if zero_width:
        weight = max(weight, HIDDEN_ZERO_WIDTH_MANY if zero_width >= 16 else HIDDEN_ZERO_WIDTH)
    if _OVERRIDE_RE.search(text):
        weight = max(weight, HIDDEN_OVERRIDE)
        # Read right-to-left overridden text in the order a human sees it.
        text = _RLO_SPAN_RE.sub(lambda m: " " + m[1][::-1] + " ", text)
    elif _BIDI_RE.search(text):
        weight = max(weight, HIDDEN_EMBEDDING)
    return _ZW_BIDI_RE.sub("", text), weight


def strip_hidden(text: str) -> str:
    """Hidden characters (and their JSON escapes) removed; tag characters dropped."""
    if "\\u" in text:
        text = _ESCAPED_HIDDEN_RE.sub(r"\1", text)
    text = _FLAG_TAGS_RE.sub("\U0001f3f4", text)
    return _HIDDEN_RE.sub("", text)


# --- normalisation ---------------------------------------------------------------

_JSON_ESC_RE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\([nrtbf\"\\/])"
)
_SIMPLE_ESC = {"n": "\n", "r": "\n", "t": " ", "b": "", "f": "", '"': '"', "\\": "\\", "/": "/"}


def _unescape_json(m: re.Match[str]) -> str:
    # Tool output is usually JSON: read its strings as the model will.
    if m[1]:
        high, low = int(m[1], 16), int(m[2], 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    if m[3]:
        cp = int(m[3], 16)
        return "\ufffd" if 0xD800 <= cp <= 0xDFFF else chr(cp)
    return _SIMPLE_ESC[m[4]]


# Latin words spelled with Cyrillic/Greek look-alikes are spoofing: fold the
# look-alikes of words that mix scripts, and leave all-Cyrillic words alone.
_LOOKALIKES = "аеорсухіјѕԁһӏԛԝοαιτνκρεАЕОРСХІЈЅВНКМТΑΒΕΗΙΚΜΝΟΡΤΧ"
_CONFUSABLES = str.maketrans(_LOOKALIKES, "aeopcyxijsdhlqwoaitvkpeaeopcxijsbhkmtabehikmnoptx")
_LOOKALIKE_RE = re.compile(f"[{_LOOKALIKES}]")
_LETTERS_RE = re.compile(r"[^\W\d_]+")
_LATIN_RE = re.compile("[a-zA-Z]")


def _fold_lookalikes(word: re.Match[str]) -> str:
    w = word[0]
    return w.translate(_CONFUSABLES) if _LATIN_RE.search(w) and _LOOKALIKE_RE.search(w) else w


_B64_RE = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_B64_EDGE = frozenset("+/=-_")


def _decoded_base64(text: str) -> Iterable[str]:
    """Readable text hidden in base64 runs ("decode this and do it")."""
    for i, m in enumerate(_B64_RE.finditer(text)):
        start, end = m.span()
        if i >= 64:
            break
        if (start and (text[start - 1].isalnum() or text[start - 1] in _B64_EDGE)) or (
            end < len(text) and (text[end].isalnum() or text[end] in _B64_EDGE)
        ):
            continue  # part of a longer token (a path, a URL, an identifier)
        blob = m[0].rstrip("=")
        blob = blob[: len(blob) - len(blob) % 4] if len(blob) % 4 == 1 else blob
        try:
            raw = base64.urlsafe_b64decode(
                blob.replace("+", "-").replace("/", "_") + "=" * (-len(blob) % 4)
            )
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        printable = sum(c.isprintable() or c in "\n\t" for c in decoded)
        if " " in decoded and printable >= 0.95 * len(decoded):
            yield decoded


def normalise(text: str) -> tuple[str, float]:
    """The text as the patterns see it, and the hidden_text weight found on the way:
    JSON escapes and HTML entities decoded, tag characters decoded to ASCII, hidden
    characters stripped, NFKC, look-alikes folded, base64 text appended,
    lowercased, whitespace collapsed."""
    if "\\" in text:
        text = _JSON_ESC_RE.sub(_unescape_json, text)
    if "&" in text:
        text = html.unescape(text)
    text, hidden = _hidden_signals(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        if _LOOKALIKE_RE.search(text):
            text = _LETTERS_RE.sub(_fold_lookalikes, text)
    decoded = list(_decoded_base64(text))
    if decoded:
        text = "\n".join([text, *decoded])
    # Whitespace runs become one space, blank lines go (split/join is 5x faster
    # than a regex here); the leading space lets word rules start with one (see rule.py).
    lines = (" ".join(line.split()) for line in text.lower().splitlines())
    return " " + "\n".join(line for line in lines if line), hidden
