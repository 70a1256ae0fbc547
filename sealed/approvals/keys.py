"""Approver keys: Ed25519 key pairs. The private key stays in the approver's
file (0600); the public key, written `ed25519:<base64>`, is registered by name
in OpenBao, where workers read it to check a decision's signature."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sealed.files import write_private

PREFIX = "ed25519:"


class ApproverKeyError(ValueError):
    """A key that cannot be read: says which and why, never the key."""


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode()


def _public(text: str) -> Ed25519PublicKey:
    if not text.startswith(PREFIX):
        raise ApproverKeyError(f"a public key is written '{PREFIX}<base64>'")
    try:
        return Ed25519PublicKey.from_public_bytes(
            base64.b64decode(text[len(PREFIX) :], validate=True)
        )
    except (binascii.Error, ValueError) as exc:
        raise ApproverKeyError(f"not an Ed25519 public key ({exc})") from None


def check_public(text: str) -> str:
    """`text` if it is a public key as registered, else ApproverKeyError."""
    _public(text)
    return text


def fingerprint(public: str) -> str:
    """What the audit log names a key by: 16 hex digits of its SHA-256."""
    return hashlib.sha256(public.encode()).hexdigest()[:16]


def verify(public: str, signature: str, data: bytes) -> bool:
    try:
        _public(public).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ApproverKeyError, binascii.Error, ValueError):
        return False
    return True


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    """The private key as PKCS#8 PEM, created 0600 (never readable by others)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem.decode())


def read_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ApproverKeyError(f"no key file {path}") from None
    except OSError as exc:
        raise ApproverKeyError(f"cannot read {path} ({exc.strerror or exc})") from None
    except TypeError:  # cryptography's word for "encrypted, and no password given"
        raise ApproverKeyError(f"{path} is protected by a passphrase: not supported") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ApproverKeyError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ApproverKeyError(f"{path} is not an Ed25519 key")
    return key
