"""Encrypted history: the AES-256-GCM payload codec every client and worker
uses, its key ring, and (sealed.codec.server) the codec server that lets the
Web UI and the `temporal` CLI read histories without holding the keys."""

from sealed.codec.keyring import (
    KEY_BYTES,
    NONCE_BYTES,
    CodecError,
    KeyRing,
    UnknownKeyError,
    new_key,
    new_key_id,
)
from sealed.codec.payload import (
    ENCODING,
    KEY_ID_META,
    AesGcmCodec,
    data_converter,
    decrypt_payload,
    encrypt_payload,
)

__all__ = [
    "ENCODING",
    "KEY_BYTES",
    "KEY_ID_META",
    "NONCE_BYTES",
    "AesGcmCodec",
    "CodecError",
    "KeyRing",
    "UnknownKeyError",
    "data_converter",
    "decrypt_payload",
    "encrypt_payload",
    "new_key",
    "new_key_id",
]
