"""The runtime's own keys in OpenBao KV: the codec key ring (sealed.codec) and
the worker-wide redaction key (sealed.redaction.known). Created by bootstrap,
read by every process with its own identity; never logged, never in history."""

from __future__ import annotations

import base64

import hvac
import hvac.exceptions

from sealed.codec import CodecError, KeyRing, new_key, new_key_id
from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.kv import (
    AUDIT_KEY_PATH,
    CODEC_KEYS_PATH,
    KV_MOUNT,
    REDACTION_KEY_PATH,
    read_kv,
    read_kv_versioned,
    write_kv_cas,
)


def read_vault_keys(client: hvac.Client) -> KeyRing:
    found = read_kv_versioned(client, CODEC_KEYS_PATH)
    if found is None:
        raise CodecError(f"no codec keys at {KV_MOUNT}/{CODEC_KEYS_PATH}: run `sealed bootstrap`")
    return KeyRing.from_mapping(found[0])


def provision_vault_keys(client: hvac.Client) -> KeyRing:
    """The key ring, created with one fresh key if absent. Idempotent: an
    existing ring is returned unchanged (histories depend on its keys)."""
    while True:
        found = read_kv_versioned(client, CODEC_KEYS_PATH)
        if found is not None:
            return KeyRing.from_mapping(found[0])
        key_id = new_key_id()
        ring = KeyRing({key_id: new_key()}, key_id)
        if write_kv_cas(client, CODEC_KEYS_PATH, ring.to_mapping(), cas=0):
            return ring


def rotate_vault_keys(client: hvac.Client) -> KeyRing:
    """Add a fresh current key, keeping the old ones so old histories still decode."""
    while True:
        found = read_kv_versioned(client, CODEC_KEYS_PATH)
        if found is None:
            raise CodecError(
                f"no codec keys at {KV_MOUNT}/{CODEC_KEYS_PATH}: run `sealed bootstrap`"
            )
        ring = KeyRing.from_mapping(found[0]).with_new_current(new_key_id(), new_key())
        if write_kv_cas(client, CODEC_KEYS_PATH, ring.to_mapping(), cas=found[1]):
            return ring


class VaultRedactionKey:
    """Read once with the worker's own identity."""

    def __init__(self, worker: AppRoleClient) -> None:
        self._worker = worker
        self._key: bytes | None = None

    async def master(self) -> bytes:
        if self._key is None:
            self._key = await self._worker.acall(
                "redaction key", lambda c: _read_key(c, REDACTION_KEY_PATH, "redaction key")
            )
        return self._key


def read_audit_key(client: hvac.Client) -> bytes:
    """The audit chain's HMAC key (sealed.audit): without it nobody can rewrite
    the log unseen, so every writer must have it or not write."""
    return _read_key(client, AUDIT_KEY_PATH, "audit key")


def _read_key(client: hvac.Client, path: str, what: str) -> bytes:
    """A key bootstrap made (sealed.identity.bootstrap.ensure_key)."""
    data = read_kv(client, path)
    if data is None:
        raise SecretUnavailable(f"{what}: not provisioned (run `sealed bootstrap`)")
    return base64.b64decode(str(data["value"]))
