"""The Temporal client every Sealed process uses: the pydantic converter and
the AES-GCM payload codec everywhere (failures included), so nothing a mission
carries reaches Temporal's database in clear and every process reads the others."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from sealed.codec import KeyRing, data_converter
from sealed.config import Settings
from sealed.identity.openbao.keys import read_vault_keys
from sealed.identity.openbao.worker import VaultWorker


def codec_keyring(settings: Settings) -> KeyRing:
    """A key file, then SEALED_CODEC_KEYS, then OpenBao KV read with the
    worker's AppRole. Never generated here: a process with a key of its own
    would write what nobody else can read."""
    if settings.codec_keys_file is not None:
        return KeyRing.from_file(settings.codec_keys_file)
    if settings.codec_keys is not None:
        return KeyRing.parse(settings.codec_keys.get_secret_value())
    vault = VaultWorker(settings.vault_addr, *settings.worker_approle())
    return vault.call("codec keys", lambda c: read_vault_keys(c, settings.codec_vault_path))


async def connect(settings: Settings) -> Client:
    keyring = await asyncio.to_thread(codec_keyring, settings)
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(keyring),
    )
