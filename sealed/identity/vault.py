"""OpenBao / HashiCorp Vault backend over hvac: KV v2 reads at the moment of need."""

from __future__ import annotations

import asyncio

import hvac
import hvac.exceptions
import requests

from sealed.identity.backend import SecretUnavailable, SecretValue

KV_MOUNT = "secret"
KV_PREFIX = "sealed/secrets"


class VaultKV:
    def __init__(self, url: str, token: str, *, mount: str = KV_MOUNT) -> None:
        self._client = hvac.Client(url=url, token=token, timeout=5)
        self._mount = mount

    def _read(self, name: str) -> str:
        try:
            response = self._client.secrets.kv.v2.read_secret_version(
                path=f"{KV_PREFIX}/{name}", mount_point=self._mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath as exc:
            raise SecretUnavailable(f"secret '{name}' does not exist") from exc
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise SecretUnavailable(f"secret '{name}': backend refused or unreachable") from exc
        return str(response["data"]["data"]["value"])

    async def read(self, name: str, *, mission_id: str, profile: str) -> SecretValue:
        return SecretValue(name, await asyncio.to_thread(self._read, name))

    def write(self, name: str, value: str) -> None:
        """Provisioning (the dev stack, `sealed secrets put`), never a mission."""
        self._client.secrets.kv.v2.create_or_update_secret(
            path=f"{KV_PREFIX}/{name}", secret={"value": value}, mount_point=self._mount
        )
