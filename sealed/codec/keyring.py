"""The codec's keys. Payloads name the key they were encrypted with, so keys
rotate without re-encrypting old histories: a `KeyRing` holds every key still
needed to read, one of them current.

Keys are always given (a file, the environment, OpenBao/Vault KV), never
generated silently per process: a worker with its own random key would write
histories no other process could read.

Key file and `SEALED_CODEC_KEYS` format, either
  * lines (or, in the environment, commas) of `key_id=base64(32 bytes)`; blank
    lines and `#` comments are ignored; the FIRST key is the current one, so a
    rotation adds its new key on top;
  * or JSON `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`, the
    same shape as the Vault KV secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_ENV = "SEALED_CODEC_KEYS"
KEY_BYTES = 32
NONCE_BYTES = 12  # 96 bits: GCM's native nonce size; random per payload
_TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class CodecError(Exception):
    """A payload or key ring that cannot be used. Never carries key material or
    plaintext, only key ids (which are not secret)."""


class UnknownKeyError(CodecError):
    pass


def _key_from_b64(key_id: str, text: str) -> bytes:
    try:
        # Accept the URL-safe alphabet too: keys often come from `token_urlsafe`-style tools.
        key = base64.b64decode(text.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise CodecError(f"codec key {key_id!r} is not valid base64") from None
    return key


def new_key() -> bytes:
    """A fresh random key, for provisioning (never called implicitly)."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def new_key_id() -> str:
    # Sortable by creation time, plus randomness so two rotations in one second differ.
    return f"k{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _associated(key_id: str, bound_to: str | None) -> bytes:
    # Unbound payloads (written before binding existed) authenticate the key id alone.
    return key_id.encode() if bound_to is None else f"{key_id}\0{bound_to}".encode()


class KeyRing:
    """Keys by id; `current` encrypts, any of them decrypts what names it."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if not keys:
            raise CodecError("a key ring needs at least one key")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id):
                raise CodecError(f"invalid codec key id {key_id!r} (letters, digits, . _ -)")
            if len(key) != KEY_BYTES:
                raise CodecError(f"codec key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")
        if current not in keys:
            raise CodecError(f"current codec key {current!r} is not in the key ring")
        self.current = current
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._keys = dict(keys)

    def __repr__(self) -> str:  # never the key bytes
        return f"KeyRing(current={self.current!r}, ids={sorted(self._aead)!r})"

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._aead)

    def with_new_current(self, key_id: str, key: bytes) -> KeyRing:
        """Rotation: a new current key, every old one kept for reading."""
        if key_id in self._keys:
            raise CodecError(f"codec key id {key_id!r} already exists")
        return KeyRing({**self._keys, key_id: key}, key_id)

    def encrypt(self, plaintext: bytes, bound_to: str | None = None) -> tuple[str, bytes]:
        """(key id, nonce + ciphertext + tag). The key id, and what the payload
        is bound to (its workflow), are the associated data: relabelling it to
        another key id or moving it to another workflow fails authentication."""
        nonce = os.urandom(NONCE_BYTES)
        aad = _associated(self.current, bound_to)
        return self.current, nonce + self._aead[self.current].encrypt(nonce, plaintext, aad)

    def decrypt(self, key_id: str, data: bytes, bound_to: str | None = None) -> bytes:
        aead = self._aead.get(key_id)
        if aead is None:
            raise UnknownKeyError(
                f"payload encrypted with unknown codec key id {key_id!r} "
                f"(this key ring has {', '.join(self.key_ids)})"
            )
        if len(data) < NONCE_BYTES + _TAG_BYTES:
            raise CodecError(f"encrypted payload too short for key id {key_id!r}")
        try:
            return aead.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(key_id, bound_to)
            )
        except InvalidTag:
            raise CodecError(
                f"encrypted payload failed authentication with codec key {key_id!r} "
                "(tampered, relabelled, moved, or a different key under that id)"
            ) from None

    # --- serialised forms ------------------------------------------------------------

    def to_mapping(self) -> dict[str, Any]:
        """The Vault / JSON shape. Contains key material: store it as a secret."""
        keys = {k: base64.b64encode(v).decode() for k, v in self._keys.items()}
        return {"current": self.current, "keys": keys}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> KeyRing:
        keys, current = data.get("keys"), data.get("current")
        if not isinstance(keys, Mapping) or not isinstance(current, str):
            raise CodecError('codec keys must look like {"current": id, "keys": {id: base64}}')
        return cls({str(k): _key_from_b64(str(k), str(v)) for k, v in keys.items()}, current)

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """The file / environment format described in the module docstring."""
        if text.lstrip().startswith("{"):
            try:
                return cls.from_mapping(json.loads(text))
            except json.JSONDecodeError:
                raise CodecError("codec keys: invalid JSON") from None
        keys: dict[str, bytes] = {}
        for raw in re.split(r"[\n,]", text):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key_id, sep, b64 = line.partition("=")
            key_id = key_id.strip()
            if not sep:
                raise CodecError("codec keys: expected key_id=base64 entries")
            if key_id in keys:
                raise CodecError(f"codec key id {key_id!r} appears twice")
            keys[key_id] = _key_from_b64(key_id, b64)
        if not keys:
            raise CodecError("codec keys: no keys given")
        return cls(keys, next(iter(keys)))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeyRing:
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_env(cls, var: str = KEYS_ENV, environ: Mapping[str, str] | None = None) -> KeyRing:
        text = (os.environ if environ is None else environ).get(var)
        if not text:
            raise CodecError(f"no codec keys: set {var} (key_id=base64,...) or use a key file")
        return cls.parse(text)
