"""Encrypted history: an AES-256-GCM `PayloadCodec` for every client and worker.

Everything a mission carries (inputs, results, activity arguments, failure
messages and stack traces) is encrypted before it leaves the process, so it
never lands in Temporal's database in clear, even after redaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from sealed.codec.keyring import CodecError, KeyRing

ENCODING = b"binary/encrypted"
KEY_ID_META = "encryption-key-id"


def encrypt_payload(keyring: KeyRing, payload: Payload) -> Payload:
    key_id, data = keyring.encrypt(payload.SerializeToString())
    return Payload(metadata={"encoding": ENCODING, KEY_ID_META: key_id.encode()}, data=data)


def decrypt_payload(keyring: KeyRing, payload: Payload) -> Payload:
    # Payloads written before encryption was turned on pass through, so old
    # histories still read.
    if payload.metadata.get("encoding") != ENCODING:
        return payload
    raw_id = payload.metadata.get(KEY_ID_META)
    if not raw_id:
        raise CodecError(f"encrypted payload has no {KEY_ID_META!r} metadata")
    key_id = raw_id.decode("utf-8", errors="replace")
    return Payload.FromString(keyring.decrypt(key_id, payload.data))


class AesGcmCodec(PayloadCodec):
    def __init__(self, keyring: KeyRing) -> None:
        super().__init__()
        self.keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [encrypt_payload(self.keyring, p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [decrypt_payload(self.keyring, p) for p in payloads]


def data_converter(keyring: KeyRing) -> DataConverter:
    """The project's pydantic converter with the codec, and failures whose
    message and stack trace move into (encrypted) encoded attributes."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
