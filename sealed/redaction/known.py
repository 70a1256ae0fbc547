"""Known values: every value this runtime issued to a mission is masked
wherever it appears, raw or encoded (base64 at every alignment, URL-safe
base64, URL-encoding, hex in either case, JSON-escaped).

No redactor needs to hold a value it did not issue: the activity that issues a
value keeps only keyed fingerprints of each of its forms (a 20-bit keyed hash of
the form's first 8 bytes, to find candidates fast, and an HMAC of the whole form,
to confirm them), and those fingerprints travel with the mission. Matching slides
the keyed 8-byte hash over the text with numpy and confirms candidates by HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from sealed.models import Fingerprint

ANCHOR = 8  # bytes hashed to find candidates; shorter values cannot be fingerprinted
MIN_VALUE_LENGTH = ANCHOR
_TABLE_BITS = 20
_CHUNK = 1 << 16
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")


def mission_key(master: bytes, mission_id: str) -> bytes:
    return hmac.new(master, f"sealed-redaction/{mission_id}".encode(), hashlib.sha256).digest()


def _multiplier(key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"anchor" + key).digest()[:8], "little") | 1


def _anchor(key_mul: int, window: bytes) -> int:
    return ((int.from_bytes(window, "little") * key_mul) & 0xFFFFFFFFFFFFFFFF) >> (64 - _TABLE_BITS)


def _digest(key: bytes, form: bytes) -> str:
    return hmac.new(key, form, hashlib.sha256).hexdigest()[:32]


def encoded_forms(value: str) -> list[tuple[bytes, int]]:
    """(form, widen) for every form a leak may take."""
    raw = value.encode()
    forms = {
        raw: 0,
        urllib.parse.quote(value, safe="").encode(): 0,
        urllib.parse.quote_plus(value).encode(): 0,
        json.dumps(value)[1:-1].encode(): 0,
        raw.hex().encode(): 0,
        raw.hex().upper().encode(): 0,
    }
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).rstrip(b"=")
            # Characters fully determined by the value: skip those mixed with the
            # prefix, and the last one (mixed with whatever follows the value).
            core = encoded[(4 * shift + 2) // 3 : -1]
            if len(core) >= ANCHOR:
                forms.setdefault(core, 1)
    return [(form, widen) for form, widen in forms.items() if len(form) >= ANCHOR]


def fingerprint(key: bytes, name: str, value: str) -> list[Fingerprint]:
    if len(value.encode()) < MIN_VALUE_LENGTH:
        raise ValueError(f"secret '{name}' is shorter than {MIN_VALUE_LENGTH} bytes")
    mul = _multiplier(key)
    return [
        Fingerprint(
            name=name,
            length=len(form),
            anchor=_anchor(mul, form[:ANCHOR]),
            digest=_digest(key, form),
            widen=widen,
        )
        for form, widen in encoded_forms(value)
    ]


class KnownValues:
    """Finds the fingerprinted forms in a text."""

    def __init__(self, key: bytes, fingerprints: Iterable[Fingerprint]) -> None:
        self._key = key
        self._mul_int = _multiplier(key)
        self._mul = np.uint64(self._mul_int)
        self._by_anchor: dict[int, list[Fingerprint]] = defaultdict(list)
        for fp in fingerprints:
            if fp not in self._by_anchor[fp.anchor]:
                self._by_anchor[fp.anchor].append(fp)
        self._table = np.zeros(1 << _TABLE_BITS, dtype=np.bool_)
        self._table[list(self._by_anchor)] = True
        self.max_length = max(
            (fp.length + 2 * fp.widen for fps in self._by_anchor.values() for fp in fps), default=0
        )

    def __bool__(self) -> bool:
        return bool(self._by_anchor)

    def find(self, data: bytes) -> list[tuple[int, int, str]]:
        """(start, end, secret name) of every match, in byte offsets."""
        if not self._by_anchor or len(data) < ANCHOR:
            return []
        found = []
        for position in self._candidates(data):
            window = data[position : position + ANCHOR]
            for fp in self._by_anchor.get(_anchor(self._mul_int, window), ()):
                end = position + fp.length
                if end <= len(data) and hmac.compare_digest(
                    _digest(self._key, data[position:end]), fp.digest
                ):
                    found.append(self._widened(data, position, end, fp))
        return found

    def _candidates(self, data: bytes) -> list[int]:
        """Positions whose 8-byte window hashes to a known anchor. In chunks
        that keep numpy's temporaries in cache: twice as fast as one pass."""
        # Every 8-byte window as a little-endian integer, without copying.
        windows = np.ndarray(
            shape=(len(data) - ANCHOR + 1,), dtype="<u8", buffer=data, strides=(1,)
        )
        size = min(_CHUNK, len(windows))
        hashes = np.empty(size, dtype=np.uint64)
        hits = np.empty(size, dtype=np.bool_)
        found: list[int] = []
        for start in range(0, len(windows), _CHUNK):
            n = min(_CHUNK, len(windows) - start)
            np.multiply(windows[start : start + n], self._mul, out=hashes[:n])
            np.right_shift(hashes[:n], np.uint64(64 - _TABLE_BITS), out=hashes[:n])
            np.take(self._table, hashes[:n], out=hits[:n])
            found += (np.flatnonzero(hits[:n]) + start).tolist()
        return found

    @staticmethod
    def _widened(data: bytes, start: int, end: int, fp: Fingerprint) -> tuple[int, int, str]:
        for _ in range(fp.widen):
            if start > 0 and data[start - 1] in _B64:
                start -= 1
        if fp.widen and end < len(data) and data[end] in _B64:
            end += 1  # the last character is mixed with what follows the value
        for _ in range(2):
            if fp.widen and end < len(data) and data[end] == ord("="):
                end += 1
        return start, end, fp.name
