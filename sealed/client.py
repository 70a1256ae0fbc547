"""The Temporal client every Sealed process uses, and the one a user's own code
gets from `connect`: the pydantic converter and the AES-GCM payload codec
everywhere (failures included), so nothing a mission carries reaches
Temporal's database in clear and every process reads the others; TLS, mTLS
and an API key for Temporal Cloud or a TLS cluster."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import TLSConfig

from sealed.codec import KeyRing, data_converter
from sealed.config import Settings, get_settings
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.keys import read_vault_keys


class ConnectionSettingsError(ValueError):
    """The connection's settings contradict each other or name what is not
    there: nothing was sent anywhere."""


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


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConnectionSettingsError(f"{what} {path}: {exc.strerror or exc}") from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect` is given as `tls`. An API key or a client
    certificate is never sent over a connection that is not encrypted."""
    cert, key = settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    if (cert is None) != (key is None):
        raise ConnectionSettingsError("mTLS needs both a client certificate and its key")
    wants_tls = any(
        value is not None
        for value in (
            settings.temporal_api_key,
            cert,
            settings.temporal_tls_ca_file,
            settings.temporal_tls_server_name,
        )
    )
    if settings.temporal_tls is False:
        if wants_tls:
            raise ConnectionSettingsError(
                "TLS is off but an API key, a client certificate, a CA or a server name "
                "is set: they are only ever used over TLS"
            )
        return False
    if not wants_tls and not settings.temporal_tls:
        return False
    ca = settings.temporal_tls_ca_file
    return TLSConfig(
        server_root_ca_cert=None if ca is None else _read(ca, "CA certificate"),
        client_cert=None if cert is None else _read(cert, "client certificate"),
        client_private_key=None if key is None else _read(key, "client key"),
        domain=settings.temporal_tls_server_name,
    )


async def connect(
    settings: Settings | None = None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    api_key: str | None = None,
    tls: bool | None = None,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    server_name: str | None = None,
    codec_keys_file: Path | None = None,
) -> Client:
    """A client that reads and writes missions as every Sealed process does.

    `settings` defaults to the process's (SEALED_* variables, `sealed.toml`);
    each keyword given overrides its `temporal_*` setting (`codec_keys_file`
    its own), so `connect(address=..., namespace=..., api_key=...)` reaches
    Temporal Cloud."""
    overrides = {
        "temporal_address": address,
        "temporal_namespace": namespace,
        "temporal_api_key": None if api_key is None else SecretStr(api_key),
        "temporal_tls": tls,
        "temporal_tls_ca_file": ca_file,
        "temporal_tls_cert_file": cert_file,
        "temporal_tls_key_file": key_file,
        "temporal_tls_server_name": server_name,
        "codec_keys_file": codec_keys_file,
    }
    settings = (settings or get_settings()).model_copy(
        update={name: value for name, value in overrides.items() if value is not None}
    )
    secure = tls_config(settings)
    keyring = await asyncio.to_thread(codec_keyring, settings)
    key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=None if key is None else key.get_secret_value(),
        tls=secure,
        data_converter=data_converter(keyring),
    )
