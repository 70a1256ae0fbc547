"""A large text's known-value scan runs in two halves on separate threads
(sealed.redaction.redactor): every match a one-thread scan finds, at and
around the seam, in every form a leak takes, is found the same, with the same
span."""

from __future__ import annotations

import base64
import hashlib
import random
import string
import urllib.parse

import pytest

from sealed.redaction.known import KnownValues, fingerprint
from sealed.redaction.redactor import Redactor
from tests.containment import FORMS

KEY = hashlib.sha256(b"parallel").digest()
SECRET = "pk_live_" + "Zq8" * 8
BLOB = base64.b64encode(bytes(range(40))).decode()  # wrapped over lines below


def redactors() -> tuple[Redactor, Redactor]:
    fingerprints = fingerprint(KEY, "api_key", SECRET) + fingerprint(KEY, "blob", BLOB)
    known = KnownValues(KEY, fingerprints)
    return Redactor(known, parallel_from=0), Redactor(known, parallel_from=1 << 40)


def filler(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words = ["ticket", "status=200", "é", "日本", '{"k": 1}', "\\n", "aGVsbG8=", "0xdeadbeef"]
    out, length = [], 0
    while length < size:
        out.append(rng.choice(words) + rng.choice([" ", "\n", "", "  "]))
        if rng.random() < 0.02:
            out.append("".join(rng.choices(string.ascii_letters, k=rng.randrange(8, 40))))
        length += len(out[-1])
    return "".join(out)


SPELLINGS = [
    *(FORMS[name](SECRET) for name in FORMS),
    base64.b64encode(SECRET.encode()).decode(),
    SECRET.encode().hex(),
    urllib.parse.quote(SECRET, safe=""),
    "\n  ".join(BLOB[i : i + 16] for i in range(0, len(BLOB), 16)),  # wrapped, indented
    BLOB,
]


@pytest.mark.parametrize("spelling", range(len(SPELLINGS)))
def test_the_halves_find_what_the_whole_does_at_the_seam(spelling):
    parallel, serial = redactors()
    planted = SPELLINGS[spelling]
    head = filler(70_000, spelling)
    start, size = len(head.encode()), len(planted.encode())
    # The seam (the middle byte) before the value, at its first byte, inside
    # it, at its last, and after it.
    tail = filler(150_000, spelling + 1).encode("ascii", "ignore").decode()
    for seam in {
        start - 2,
        start,
        start + 1,
        start + size // 2,
        start + size - 1,
        start + size + 2,
    }:
        text = head + planted + tail[: 2 * seam - start - size]
        assert len(text.encode()) // 2 == seam
        found = parallel.spans(text)
        assert found == serial.spans(text)
        assert any(f.rule.startswith("known:") for f in found), planted
