"""The Temporal client every Sealed process uses: the pydantic converter and
the AES-GCM payload codec everywhere (failures included), so nothing a mission
carries reaches Temporal's database in clear and every process reads the others."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from sealed.codec import KeyRing, data_converter
from sealed.config import Settings
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.keys import read_vault_keys


def codec_keyring(settings: Settings) -> KeyRing:
    """A key file, then SEALED_CODEC_KEYS, then OpenBao KV read with the codec
    login (which may read the keys and nothing else) or, in a process that has
    only the worker's, with that. Never generated here: a process with a key of
    its own would write what nobody else can read."""
    if settings.codec_keys_file is not None:
        return KeyRing.from_file(settings.codec_keys_file)
    if settings.codec_keys is not None:
        return KeyRing.parse(settings.codec_keys.get_secret_value())
    login = settings.approle("codec") or settings.approle("worker")
    if login is None:
        raise SystemExit(
            "no codec keys: set SEALED_CODEC_KEYS or SEALED_CODEC_KEYS_FILE, or give this "
            "process an OpenBao login (`sealed bootstrap`, or run the dev stack)"
        )
    return AppRoleClient(settings.vault_addr, *login).call("codec keys", read_vault_keys)


async def connect(settings: Settings) -> Client:
    keyring = await asyncio.to_thread(codec_keyring, settings)
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(keyring),
    )
