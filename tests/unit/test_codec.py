"""The AES-GCM payload codec, its key ring, and encrypted history end to end on
the time-skipping test server."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from sealed.codec import (
    ENCODING,
    KEY_ID_META,
    NONCE_BYTES,
    AesGcmCodec,
    CodecError,
    KeyRing,
    UnknownKeyError,
    data_converter,
    decrypt_payload,
)
from sealed.codec.payload import REFUSED, REFUSED_META, WORKFLOW_META
from sealed.devstack.binaries import executable

K1, K2 = b"\x01" * 32, b"\x02" * 32
SECRET_INPUT = "INPUT-ssn-078-05-1120-in-clear"
SECRET_RESULT = "RESULT-tickets-token-in-clear"
SECRET_FAILURE = "FAILURE-sk-live-abcdef-in-clear"


def payload(text: str) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([text])[0]


def ring(*keys: tuple[str, bytes]) -> KeyRing:
    return KeyRing(dict(keys), keys[0][0])


async def test_round_trip() -> None:
    codec = AesGcmCodec(ring(("k1", K1)))
    original = [payload("hello"), payload(SECRET_INPUT), Payload()]
    assert await codec.decode(await codec.encode(original)) == original


async def test_wire_format() -> None:
    codec = AesGcmCodec(ring(("k1", K1)))
    plain = payload(SECRET_INPUT)
    first, second = await codec.encode([plain, plain])
    assert dict(first.metadata) == {"encoding": ENCODING, KEY_ID_META: b"k1"}
    assert first.data[:NONCE_BYTES] != second.data[:NONCE_BYTES]  # a fresh nonce each time
    assert first.data != second.data
    for blob in (first.data, first.SerializeToString()):
        assert plain.data not in blob
        assert SECRET_INPUT.encode() not in blob
        assert b"json/plain" not in blob  # even the inner metadata is sealed


async def test_rotation() -> None:
    old = ring(("k1", K1))
    old_payload = (await AesGcmCodec(old).encode([payload("old")]))[0]
    rotated = old.with_new_current("k2", K2)
    codec = AesGcmCodec(rotated)
    new_payload = (await codec.encode([payload("new")]))[0]
    assert new_payload.metadata[KEY_ID_META] == b"k2"
    assert await codec.decode([old_payload, new_payload]) == [payload("old"), payload("new")]
    # A ring that lost k1 names the missing id instead of failing obscurely.
    with pytest.raises(UnknownKeyError, match="'k1'"):
        await AesGcmCodec(ring(("k2", K2))).decode([old_payload])
    with pytest.raises(CodecError, match="already exists"):
        rotated.with_new_current("k1", K1)


async def test_tampering_is_detected() -> None:
    keys = ring(("k1", K1), ("k2", K2))
    codec = AesGcmCodec(keys)
    good = (await codec.encode([payload(SECRET_INPUT)]))[0]
    for i in (0, NONCE_BYTES, len(good.data) - 1):  # nonce, ciphertext, tag
        bad = Payload()
        bad.CopyFrom(good)
        bad.data = good.data[:i] + bytes([good.data[i] ^ 1]) + good.data[i + 1 :]
        assert re.search("failed authentication", await refused(codec, bad))
    # Relabelled to another key id the ring holds: the key id is associated data.
    relabelled = Payload()
    relabelled.CopyFrom(good)
    relabelled.metadata[KEY_ID_META] = b"k2"
    assert re.search("failed authentication", await refused(codec, relabelled))
    truncated = Payload(metadata=dict(good.metadata), data=good.data[:20])
    assert re.search("too short", await refused(codec, truncated))
    unlabelled = Payload(metadata={"encoding": ENCODING}, data=good.data)
    assert re.search(KEY_ID_META, await refused(codec, unlabelled))


async def refused(codec: AesGcmCodec, sent: Payload) -> str:
    """Why a strict codec refused `sent`: it hands back a marker no converter
    reads (a signal carrying it is dropped), never raises (which would fail
    every workflow task of the mission from then on)."""
    (decoded,) = await codec.decode([sent])
    assert decoded.metadata["encoding"] == REFUSED and not decoded.data
    return decoded.metadata[REFUSED_META].decode()


LEGACY = [payload("written before encryption"), Payload(metadata={"encoding": b"binary/null"})]


async def test_workers_and_clients_refuse_unencrypted_payloads() -> None:
    """Red team 6: without this, anyone who reaches the Temporal frontend starts a
    mission, or completes a model turn, with no key at all."""
    codec = AesGcmCodec(ring(("k1", K1)))
    for legacy in LEGACY:
        assert re.search("unencrypted", await refused(codec, legacy))


async def test_readers_of_old_histories_see_unencrypted_payloads_as_they_are() -> None:
    assert await AesGcmCodec(ring(("k1", K1)), strict=False).decode(LEGACY) == LEGACY
    assert [decrypt_payload(ring(("k1", K1)), p, strict=False) for p in LEGACY] == LEGACY


def bound(codec: AesGcmCodec, workflow_id: str) -> AesGcmCodec:
    return codec.with_context(WorkflowSerializationContext(namespace="n", workflow_id=workflow_id))


async def test_a_payload_is_bound_to_its_workflow() -> None:
    """Red team 6: a ciphertext from one mission cannot be replayed into another."""
    codec = AesGcmCodec(ring(("k1", K1)))
    (sealed,) = await bound(codec, "mission-a").encode([payload(SECRET_INPUT)])
    assert sealed.metadata[WORKFLOW_META] == b"mission-a"
    assert await bound(codec, "mission-a").decode([sealed]) == [payload(SECRET_INPUT)]
    activity = ActivitySerializationContext(
        namespace="n",
        activity_id="1",
        activity_type="t",
        activity_task_queue="q",
        workflow_id="mission-a",
        workflow_type="w",
        is_local=False,
    )
    assert await codec.with_context(activity).decode([sealed]) == [payload(SECRET_INPUT)]
    assert re.search("another workflow", await refused(bound(codec, "mission-b"), sealed))
    # Relabelled to the other workflow, or its binding stripped: authentication fails.
    for metadata in ({WORKFLOW_META: b"mission-b"}, {}):
        moved = Payload(metadata={**sealed.metadata}, data=sealed.data)
        del moved.metadata[WORKFLOW_META]
        moved.metadata.update(metadata)
        assert re.search("authentication", await refused(bound(codec, "mission-b"), moved))
    # The codec server, which knows no workflow, reads it by its own binding.
    assert decrypt_payload(KEYRING, sealed, strict=False) == payload(SECRET_INPUT)


def test_key_ring_validation() -> None:
    with pytest.raises(CodecError, match="32 bytes"):
        KeyRing({"k1": b"short"}, "k1")
    with pytest.raises(CodecError, match="not in the key ring"):
        KeyRing({"k1": K1}, "k2")
    with pytest.raises(CodecError, match="invalid codec key id"):
        KeyRing({"k 1": K1}, "k 1")
    with pytest.raises(CodecError, match="at least one"):
        KeyRing({}, "k1")
    text = repr(ring(("k1", K1)))
    assert "k1" in text and base64.b64encode(K1).decode() not in text


def test_loaders(tmp_path: Path) -> None:
    b1, b2 = base64.b64encode(K1).decode(), base64.urlsafe_b64encode(K2).decode()
    # Lines: the first key is current; comments and blanks ignored.
    lines = tmp_path / "keys"
    lines.write_text(f"# rotated 2025-06\nk2={b2}\n\nk1={b1}\n")
    from_lines = KeyRing.from_file(lines)
    assert (from_lines.current, from_lines.key_ids) == ("k2", ["k1", "k2"])
    # JSON, the Vault shape, and back.
    as_json = tmp_path / "keys.json"
    as_json.write_text(f'{{"current": "k1", "keys": {{"k1": "{b1}", "k2": "{b2}"}}}}')
    from_json = KeyRing.from_file(as_json)
    assert from_json.current == "k1"
    assert KeyRing.from_mapping(from_json.to_mapping()).to_mapping() == from_json.to_mapping()
    # The environment: commas separate entries.
    env = KeyRing.from_env(environ={"SEALED_CODEC_KEYS": f"k2={b2},k1={b1}"})
    assert (env.current, env.key_ids) == ("k2", ["k1", "k2"])
    # Never a silently generated key.
    with pytest.raises(CodecError, match="SEALED_CODEC_KEYS"):
        KeyRing.from_env(environ={})
    for bad, message in (
        ("k1", "key_id=base64"),
        (f"k1={b1}\nk1={b2}", "twice"),
        ("k1=not*base64", "not valid base64"),
        ("# nothing", "no keys"),
        ('{"keys": 1}', "must look like"),
        ("{oops", "invalid JSON"),
    ):
        with pytest.raises(CodecError, match=message):
            KeyRing.parse(bad)


async def test_encrypted_payload_is_opaque_to_a_plain_converter() -> None:
    # The codec output is opaque to a plain converter: it cannot be read as JSON.
    encoded = await AesGcmCodec(ring(("k1", K1))).encode([payload("x")])
    with pytest.raises(KeyError, match="binary/encrypted"):
        pydantic_data_converter.payload_converter.from_payloads(encoded, [str])


# --- end to end: encrypted history on the time-skipping server ------------------------


@activity.defn
async def echo(text: str) -> str:
    return f"{SECRET_RESULT}:{text}"


@activity.defn
async def leak(text: str) -> str:
    raise ApplicationError(f"{SECRET_FAILURE} while handling {text}", non_retryable=True)


@workflow.defn(sandboxed=False)
class CodecProbe:
    @workflow.run
    async def run(self, text: str) -> str:
        result: str = await workflow.execute_activity(
            echo, text, start_to_close_timeout=timedelta(seconds=10)
        )
        if text.endswith("fail"):
            await workflow.execute_activity(
                leak, text, start_to_close_timeout=timedelta(seconds=10)
            )
        return result


KEYRING = ring(("k1", K1))


@pytest.fixture(scope="module")
async def codec_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(executable("temporal-test-server")),
        data_converter=data_converter(KEYRING),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def probe(codec_env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, Client, str]]:
    """A worker for CodecProbe with the codec; yields the codec's client, the same
    server seen by a process without the keys, and the task queue."""
    client = codec_env.client
    raw = Client(client.service_client, namespace=client.namespace)
    queue = f"codec-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[CodecProbe],
        activities=[echo, leak],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield client, raw, queue


async def test_history_is_encrypted_end_to_end(probe: tuple[Client, Client, str]) -> None:
    client, raw, queue = probe
    ok = await client.start_workflow(
        CodecProbe.run, SECRET_INPUT, id=f"ok-{uuid.uuid4()}", task_queue=queue
    )
    assert await ok.result() == f"{SECRET_RESULT}:{SECRET_INPUT}"
    failing = await client.start_workflow(
        CodecProbe.run, f"{SECRET_INPUT}-fail", id=f"fail-{uuid.uuid4()}", task_queue=queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await failing.result()
    # The client with the codec reads the failure in clear, down to its cause.
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.message.startswith(SECRET_FAILURE)
    failure = activity_error.cause.failure  # the stack trace is decoded too
    assert failure is not None and "in leak" in failure.stack_trace

    for handle in (ok, failing):
        history = await raw.get_workflow_handle(handle.id).fetch_history()
        as_json = history.to_json()
        as_bytes = b"".join(event.SerializeToString() for event in history.events)
        for secret in (SECRET_INPUT, SECRET_RESULT, SECRET_FAILURE):
            assert secret not in as_json
            assert secret.encode() not in as_bytes
        if handle is failing:  # the message moved into the (encrypted) encoded attributes
            assert "Encoded failure" in as_json
    # Without the keys, the result cannot be read either.
    with pytest.raises(Exception):  # noqa: B017 - the SDK's decode error type is not public
        await raw.get_workflow_handle(ok.id).result()
    # Control: the same checks would catch a payload stored in clear.
    assert SECRET_INPUT.encode() in payload(SECRET_INPUT).SerializeToString()


async def test_a_client_without_the_key_cannot_start_a_workflow(
    probe: tuple[Client, Client, str],
) -> None:
    """What an outsider at the Temporal frontend sends (plaintext) never runs."""
    _, raw, queue = probe
    forged = await raw.start_workflow(
        "CodecProbe", "injected", id=f"forged-{uuid.uuid4()}", task_queue=queue
    )
    await asyncio.sleep(1)
    history = await raw.get_workflow_handle(forged.id).fetch_history()
    kinds = [e.WhichOneof("attributes") for e in history.events]
    assert "activity_task_scheduled_event_attributes" not in kinds
    assert "workflow_task_failed_event_attributes" in kinds
