"""Encrypted history: an AES-256-GCM `PayloadCodec` for every client and worker.

Everything a mission carries (inputs, results, activity arguments, failure
messages and stack traces) is encrypted before it leaves the process, so it
never lands in Temporal's database in clear, even after redaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Self

import structlog
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from sealed.codec.keyring import CodecError, KeyRing, UnknownKeyError

log = structlog.get_logger("sealed.codec")

ENCODING = b"binary/encrypted"
# What a strict reader puts in place of a payload it refuses. No converter reads
# this encoding: the one value it stood for fails to convert, and nothing else.
REFUSED = b"binary/sealed-refused"
REFUSED_META = "sealed-refused-because"
KEY_ID_META = "encryption-key-id"
WORKFLOW_META = "encryption-workflow-id"


def encrypt_payload(keyring: KeyRing, payload: Payload, workflow_id: str | None = None) -> Payload:
    """Encrypted, and bound to `workflow_id` when the SDK says whose it is."""
    key_id, data = keyring.encrypt(payload.SerializeToString(), workflow_id)
    metadata = {"encoding": ENCODING, KEY_ID_META: key_id.encode()}
    if workflow_id is not None:
        metadata[WORKFLOW_META] = workflow_id.encode()
    return Payload(metadata=metadata, data=data)


def decrypt_payload(
    keyring: KeyRing, payload: Payload, workflow_id: str | None = None, *, strict: bool = True
) -> Payload:
    """The plaintext payload. `strict` (every worker and client) refuses one that
    is not encrypted: without it, anyone who reaches the Temporal frontend could
    start a mission or complete a model turn with no key. Lenient readers (the
    codec server, replay of old histories) show such payloads as they are. A
    payload bound to a workflow decodes only for that workflow, when the reader
    knows which it is reading for."""
    if payload.metadata.get("encoding") != ENCODING:
        if strict:
            raise CodecError("refusing an unencrypted payload")
        return payload
    raw_id = payload.metadata.get(KEY_ID_META)
    if not raw_id:
        raise CodecError(f"encrypted payload has no {KEY_ID_META!r} metadata")
    key_id = raw_id.decode("utf-8", errors="replace")
    raw_bound = payload.metadata.get(WORKFLOW_META)
    bound = None if raw_bound is None else raw_bound.decode("utf-8", errors="replace")
    if bound is not None and workflow_id is not None and bound != workflow_id:
        raise CodecError("refusing a payload encrypted for another workflow")
    return Payload.FromString(keyring.decrypt(key_id, payload.data, bound))


class AesGcmCodec(PayloadCodec, WithSerializationContext):
    """The codec every client and worker uses: strict, and bound to the
    workflow of each payload the SDK gives it a context for."""

    def __init__(
        self, keyring: KeyRing, *, strict: bool = True, workflow_id: str | None = None
    ) -> None:
        super().__init__()
        self.keyring = keyring
        self.strict = strict
        self.workflow_id = workflow_id

    def with_context(self, context: SerializationContext) -> Self:
        workflow_id = getattr(context, "workflow_id", None)
        if not isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = None
        return type(self)(self.keyring, strict=self.strict, workflow_id=workflow_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [encrypt_payload(self.keyring, p, self.workflow_id) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode(p) for p in payloads]

    def _decode(self, payload: Payload) -> Payload:
        """Refused payloads are replaced, not raised on: a decode error fails the
        whole workflow task, again on every retry, so one plaintext (or another
        workflow's) signal, which anyone at the frontend can send, would stop the
        mission for good. Replaced, the signal is dropped (the SDK logs it), an
        update is rejected, and a workflow input or activity result still fails."""
        try:
            return decrypt_payload(self.keyring, payload, self.workflow_id, strict=self.strict)
        except UnknownKeyError:
            raise  # this worker's key ring is behind: retried until it is not, nothing lost
        except CodecError as exc:
            if not self.strict:
                raise
            log.warning("payload refused", reason=str(exc), workflow_id=self.workflow_id)
            return Payload(metadata={"encoding": REFUSED, REFUSED_META: str(exc).encode()})


def data_converter(keyring: KeyRing, *, strict: bool = True) -> DataConverter:
    """The project's pydantic converter with the codec, and failures whose
    message and stack trace move into (encrypted) encoded attributes. `strict`
    off only to read histories written before encryption (replay)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keyring, strict=strict),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
