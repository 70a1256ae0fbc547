"""What is fingerprinted: the keyed hashes of every form a value (or a part of a
structured value) may take. Fingerprints travel with the mission; values never do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from typing import Any

from sealed.models import Fingerprint

ANCHOR = 8  # bytes hashed to find candidates; shorter values cannot be fingerprinted
MIN_VALUE_LENGTH = ANCHOR
CUT_MIN = 16  # values this long are also fingerprinted with a character cut off
MAX_LEAVES = 64  # string leaves of one structured secret (each costs fingerprints)
_TABLE_BITS = 20
CHECK = b"check"  # what the second multiplier is derived for
_CHUNK = 1 << 16
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="
_B64 = frozenset(_B64_CHARS)


def mission_key(master: bytes, mission_id: str) -> bytes:
    return hmac.new(master, f"sealed-redaction/{mission_id}".encode(), hashlib.sha256).digest()


def _multiplier(key: bytes, purpose: bytes = b"anchor") -> int:
    return int.from_bytes(hashlib.sha256(purpose + key).digest()[:8], "little") | 1


def _anchor(key_mul: int, window: bytes) -> int:
    return ((int.from_bytes(window, "little") * key_mul) & 0xFFFFFFFFFFFFFFFF) >> (64 - _TABLE_BITS)


def _digest(key: bytes, form: bytes) -> str:
    return hmac.new(key, form, hashlib.sha256).hexdigest()[:32]


def _raw_digest(key: bytes, form: bytes) -> bytes:
    """`_digest` as bytes, by the one-shot HMAC (the matching loop's cost)."""
    return hmac.digest(key, form, "sha256")[:16]


# --- what is fingerprinted ----------------------------------------------------------


def encoded_forms(value: str) -> list[tuple[bytes, int]]:
    """(form, widen) for every form a leak may take. Escaped forms (percent,
    JSON, HTML) are found by decoding the text (see `_View`), so only escaping
    done twice needs a form of its own."""
    raw = value.encode()
    plain = [value]
    if len(raw) >= CUT_MIN:
        # Cut by one character at either end: an off-by-one strip (a newline
        # that was not there), a parser eating the first or last character.
        plain += [value[:-1], value[1:]]
    forms = {v.encode(): 0 for v in plain}
    forms.setdefault(value.replace(" ", "+").encode(), 0)  # form-encoded, the rest decoded
    forms.setdefault(urllib.parse.quote(value, safe="").encode(), 0)  # ... escaped twice
    forms.setdefault(urllib.parse.quote_plus(value).encode(), 0)
    forms.setdefault(json.dumps(value)[1:-1].encode(), 0)
    forms.setdefault(raw.hex().encode(), 0)
    forms.setdefault(raw.hex().upper().encode(), 0)
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).rstrip(b"=")
            # Characters fully determined by the value: skip those mixed with the
            # prefix, and the last one (mixed with whatever follows the value).
            core = encoded[(4 * shift + 2) // 3 : -1]
            if len(core) >= ANCHOR:
                forms.setdefault(core, 1)
    return [(form, widen) for form, widen in forms.items() if len(form) >= ANCHOR]


_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,31}")
_NESTED_JSON_DEPTH = 3  # a JSON document inside a string inside ... (depth levels)


def _document(value: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array `value` is, numbers kept as their source text."""
    text = value.strip()
    if not text or text[0] not in "[{":
        return None
    try:
        doc = json.loads(text, parse_int=str, parse_float=str, parse_constant=lambda _: None)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict | list) else None


def _segment(key: str, index: int) -> str:
    """A key as the label shows it. Labels reach redacted text and audit
    records, so a key that is not a plain identifier, or looks like a secret
    (a document keyed by tokens), is shown by its position instead."""
    from sealed.redaction.patterns import find_secrets  # only structured secrets need it

    if _LABEL.fullmatch(key) and not find_secrets(key):
        return f".{key}"
    return f".#{index}"


def structured_leaves(name: str, value: str) -> list[tuple[str, str]]:
    """(`<name>.<path>`, leaf) for every string leaf of 8 bytes or more of a value
    that is a JSON object or array, numbers included (as their source text: a
    numeric PIN or account number is used alone too; ports and counts are below
    8 bytes), JSON documents inside string leaves included; booleans and nulls
    are never secret. Empty for any other value."""
    root = _document(value)
    if root is None:
        return []
    leaves: list[tuple[str, str]] = []
    stack: list[tuple[str, Any, int]] = [(name, root, 0)]
    while stack:
        path, node, depth = stack.pop()
        if isinstance(node, dict):
            children = [(path + _segment(str(k), i), v) for i, (k, v) in enumerate(node.items())]
        else:
            children = [(f"{path}[{i}]", v) for i, v in enumerate(node)]
        for child_path, child in reversed(children):
            if isinstance(child, dict | list):
                stack.append((child_path, child, depth))
            elif isinstance(child, str):
                if len(child.encode()) >= MIN_VALUE_LENGTH:
                    leaves.append((child_path, child))
                nested = _document(child) if depth < _NESTED_JSON_DEPTH else None
                if nested is not None:
                    stack.append((child_path, nested, depth + 1))
    return leaves


def fingerprint(key: bytes, name: str, value: str) -> list[Fingerprint]:
    if len(value.encode()) < MIN_VALUE_LENGTH:
        raise ValueError(f"secret '{name}' is shorter than {MIN_VALUE_LENGTH} bytes")
    leaves = structured_leaves(name, value)
    if len(leaves) > MAX_LEAVES:
        raise ValueError(
            f"secret '{name}' is a JSON document of more than {MAX_LEAVES} fields, each "
            "masked on its own and carried by the mission: issue the field the tool "
            "needs (options.key)"
        )
    mul, check_mul = _multiplier(key), _multiplier(key, CHECK)
    fingerprints: list[Fingerprint] = []
    seen: set[str] = set()
    for label, part in [(name, value), *leaves]:
        for form, widen in encoded_forms(part):
            digest = _digest(key, form)
            if digest not in seen:  # the same form under two names: the first one
                seen.add(digest)
                fingerprints.append(
                    Fingerprint(
                        name=label,
                        length=len(form),
                        anchor=_anchor(mul, form[:ANCHOR]),
                        check=_anchor(check_mul, form[:ANCHOR]),
                        digest=digest,
                        widen=widen,
                    )
                )
    return fingerprints
