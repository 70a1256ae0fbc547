"""Helpers of the containment tests: the forms a leaked secret takes, and the
sweep that looks for a secret on a surface (history, logs, files) after
undoing those forms.

A leaked form is written `[leak:<tag>] <form>`: the tag (never secret, it
survives redaction) says what leaked it, and the sweep names the tag nearest
before each hit, so a failure says which form leaked, and how it got there."""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.devstack.binaries import executable

# --- the surfaces --------------------------------------------------------------------


def decoded_history(history_json: str) -> str:
    """The history with every payload's base64 `data` decoded in place."""

    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {
                k: base64.b64decode(v).decode(errors="replace")
                if k == "data" and isinstance(v, str)
                else walk(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(json.loads(history_json)))


def temporal_cli(stack: StackInfo, *args: str) -> str:
    out = subprocess.run(
        [str(executable("temporal")), *args, "--address", stack.temporal_address, "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout


def shown_through_codec(stack: StackInfo, settings: Settings, mission_id: str) -> str:
    """`temporal workflow show` of a mission through the codec server, as an
    operator reads it: its payloads decrypted (still base64 in the JSON)."""
    return temporal_cli(
        stack,
        "workflow",
        "show",
        "-w",
        mission_id,
        "--codec-endpoint",
        stack.codec_url,
        "--codec-auth",
        f"Bearer {settings.codec_bearer()}",
    )


def encodings(secret: str) -> list[str]:
    """The forms a leak takes: raw, base64 at every alignment (as inside a
    longer encoded text), URL-encoded, hex in either case."""
    raw = secret.encode()
    forms = {secret, urllib.parse.quote(secret, safe=""), raw.hex(), raw.hex().upper()}
    for shift in range(3):
        encoded = base64.b64encode(b"x" * shift + raw).decode()
        # Drop the characters that mix in the prefix or the padding.
        forms.add(encoded[(4 * shift + 2) // 3 : -4])
    return sorted(forms)


STACK_FILES = ("temporal.db*", "logs/*.log", "audit.log", "approval-inbox.json")


def stack_files(data_dir: Path, patterns: tuple[str, ...] = STACK_FILES) -> list[Path]:
    """Temporal's database files, the stack's logs (OpenBao's audit device
    among them), Sealed's audit log and the approval requests the inbox kept."""
    return [f for pattern in patterns for f in sorted(data_dir.glob(pattern)) if f.is_file()]


def files_holding(
    secret: str, data_dir: Path, patterns: tuple[str, ...] = STACK_FILES
) -> list[str]:
    """The stack's files (`stack_files`) that contain any encoding of `secret`, as is."""
    return [
        f"{f.name}: {form}"
        for f in stack_files(data_dir, patterns)
        for form in encodings(secret)
        if form.encode() in f.read_bytes()
    ]


# --- the forms a leak takes ---------------------------------------------------------------

ZERO_WIDTH = {"200b": "\u200b", "200c": "\u200c", "200d": "\u200d", "2060": "\u2060"}
ZERO_WIDTH["feff"] = "\ufeff"
SOFT_HYPHEN = {"00ad": "\u00ad"}
BIDI = {"200e": "\u200e", "200f": "\u200f", "202a": "\u202a", "202e": "\u202e"}
BIDI["2066"] = "\u2066"  # an isolate (LRI)
_NAMED = {"/": "&sol;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "+": "&plus;", "=": "&equals;"}
_GO_JSON = {"&": "\\u0026", "<": "\\u003c", ">": "\\u003e"}


def _json_text(inner: str) -> str:
    """`inner` (already escaped as a JSON string's content) inside a JSON text."""
    return '{"note": "' + inner + '"}'


def _json_escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


def fullwidth(c: str) -> str:
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


def math_bold(c: str) -> str:
    if "A" <= c <= "Z":
        return chr(0x1D400 + ord(c) - ord("A"))
    if "a" <= c <= "z":
        return chr(0x1D41A + ord(c) - ord("a"))
    if "0" <= c <= "9":
        return chr(0x1D7CE + ord(c) - ord("0"))
    return c


def _split(sep: str) -> Callable[[str], str]:
    return lambda v: sep.join(v)


def _json_split(escape: str) -> Callable[[str], str]:
    return lambda v: _json_text(escape.join(_json_escaped(c) for c in v))


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    # Hidden characters between every two characters, raw...
    **{f"zw-{k}": _split(c) for k, c in ZERO_WIDTH.items()},
    **{f"shy-{k}": _split(c) for k, c in SOFT_HYPHEN.items()},
    **{f"bidi-{k}": _split(c) for k, c in BIDI.items()},
    "zw-200b-once": lambda v: v[: len(v) // 2] + "\u200b" + v[len(v) // 2 :],
    # ... and as JSON escapes inside a JSON text (either case of hex digits)
    "json-zw-200b": _json_split("\\u200b"),
    "json-zw-FEFF": _json_split("\\uFEFF"),
    "json-shy-00ad": _json_split("\\u00ad"),
    "json-bidi-202e": _json_split("\\u202e"),
    # HTML/XML character references: some characters, or all of them
    "ent-some": lambda v: "".join({"/": "&#x2F;", "&": "&amp;", "<": "&#60;"}.get(c, c) for c in v),
    "ent-named": lambda v: "".join(_NAMED.get(c, c) for c in v),
    "ent-hex-all": lambda v: "".join(f"&#x{ord(c):X};" for c in v),
    "ent-hex-lower-padded": lambda v: "".join(f"&#x{ord(c):04x};" for c in v),
    "ent-dec-all": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "ent-zw-200b": _split("&#x200B;"),
    # JSON \uXXXX escapes of ordinary characters: Go's HTML-safe ones, or all
    "json-go": lambda v: _json_text("".join(_GO_JSON.get(c, c) for c in _json_escaped(v))),
    "json-u-all": lambda v: _json_text("".join(f"\\u{ord(c):04x}" for c in v)),
    "json-u-all-upper": lambda v: _json_text("".join(f"\\u{ord(c):04X}" for c in v)),
    # Compatibility forms NFKC folds back
    "fullwidth-all": lambda v: "".join(fullwidth(c) for c in v),
    "fullwidth-letters": lambda v: "".join(fullwidth(c) if c.isalpha() else c for c in v),
    "math-bold": lambda v: "".join(math_bold(c) for c in v),
}
# The forms in groups small enough that a failure quoting a group in full stays
# under the size Temporal keeps of a retried activity's last failure (a larger
# one is recorded as "Failure exceeds size limit.", and the surface goes unswept).
FORM_GROUPS = [tuple(FORMS)[i : i + 6] for i in range(0, len(FORMS), 6)]
# What a structured secret's leaves are leaked in, one leaf at a time.
LEAF_FORMS = ("raw", "zw-200b", "json-zw-200b", "ent-hex-all", "fullwidth-all")


def leak_line(tag: str, form: str, value: str) -> str:
    return f"[leak:{tag}:{form}] {FORMS[form](value)}"


def leak_lines(tag: str, value: str, forms: tuple[str, ...] | None = None) -> str:
    """`value` in every form (or those named), one tagged line each."""
    return "\n".join(leak_line(tag, form, value) for form in forms or tuple(FORMS))


def json_leaves(document: str) -> list[str]:
    """Every string or number leaf of 8 bytes or more of a JSON document (as its
    source text), in document order: the parts of a structured secret that are
    each secret on their own."""

    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [leaf for v in node.values() for leaf in walk(v)]
        if isinstance(node, list):
            return [leaf for v in node for leaf in walk(v)]
        if isinstance(node, str) and len(node.encode()) >= 8:
            return [node]
        return []

    return walk(json.loads(document, parse_int=str, parse_float=str))


# --- the sweep ----------------------------------------------------------------------------

# Hidden characters: zero-width and invisible formatting (with the soft hyphen),
# bidi embeddings, overrides and isolates, the BOM.
_HIDDEN = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_BACKSLASH = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\(.)",
    re.S,
)
_LETTERS = {"n": "\n", "r": "\r", "t": "\t", "b": "", "f": ""}


def _unescape(m: re.Match[str]) -> str:
    if m[1]:
        return chr(0x10000 + ((int(m[1], 16) - 0xD800) << 10) + (int(m[2], 16) - 0xDC00))
    if m[3] or m[4]:
        return chr(int(m[3] or m[4], 16))
    return _LETTERS.get(m[5], m[5])


def normalise(text: str) -> str:
    """`text` with every layer of the forms undone, until nothing changes:
    hidden characters removed, backslash escapes (`\\uXXXX`, `\\xHH`, `\\/`,
    `\\n`...) and HTML/XML character references decoded, NFKC."""
    for _ in range(10):
        before = text
        text = _HIDDEN.sub("", text)
        if "\\" in text:
            text = _BACKSLASH.sub(_unescape, text)
        if "&" in text:
            text = html.unescape(text)
        text = unicodedata.normalize("NFKC", text)
        if text == before:
            break
    return _HIDDEN.sub("", text)


_TAG = re.compile(r"\[leak:([^\]\s]{1,80})\]")
_TAG_REACH = 400  # how far before a hit its tag may be (a leak line's own tag is right there)


def _kind(form: str, value: str) -> str:
    if form == value:
        return "raw"
    if form.lower() == value.encode().hex():
        return "hex"
    return "url-encoded" if form == urllib.parse.quote(value, safe="") else "base64"


def sweep(surfaces: Mapping[str, str], secrets: Mapping[str, str]) -> list[str]:
    """Every place a secret is on a surface once the surface is normalised, in
    any of its `encodings`: `<surface>: <secret> (<encoding>) after [leak:<tag>]`."""
    found: set[str] = set()
    for where, text in surfaces.items():
        flat = normalise(text)
        for name, value in secrets.items():
            plain = normalise(value)
            for form in encodings(plain):
                kind = _kind(form, plain)
                for hit in re.finditer(re.escape(form), flat):
                    tags = _TAG.findall(flat, max(0, hit.start() - _TAG_REACH), hit.start())
                    after = f"[leak:{tags[-1]}]" if tags else "no tag"
                    found.add(f"{where}: {name} ({kind}) after {after}")
    return sorted(found)


def file_surfaces(data_dir: Path, patterns: tuple[str, ...] = STACK_FILES) -> dict[str, str]:
    """The stack's files (`stack_files`) as texts to sweep: bytes that are not
    UTF-8 (a database page, a protobuf) read as U+FFFD."""
    return {
        f"file {f.name}": f.read_bytes().decode(errors="replace")
        for f in stack_files(data_dir, patterns)
    }
