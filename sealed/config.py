"""Settings: environment variables (SEALED_*), then secret files (Docker's and
Kubernetes' convention: /run/secrets/sealed_<field>, or the folder
SEALED_SECRETS_DIR names), then a settings file (`sealed.toml` in the working
directory, or the file SEALED_CONFIG names), then the embedded defaults, so that
nothing needs setting for the dev stack.

The dev stack keeps its logins and tokens as 0600 files in the data directory
(named here, written by sealed.identity.bootstrap and sealed.devstack); a
setting of the same name wins over each."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sealed.contract import TASK_QUEUE

DEFAULT_TOOL_MODULES = ["sealed.tools.tickets", "sealed.tools.http"]
SECRETS_DIR = "/run/secrets"
ROOT_TOKEN_FILE = "vault-root-token"
CODEC_TOKEN_FILE = "codec-token"


def _revealed(value: SecretStr | None) -> str | None:
    # Credentials are SecretStr so that printing the settings never shows them.
    return None if value is None else value.get_secret_value()


def login_files(login: str) -> tuple[str, str]:
    """The files an AppRole login ("worker", "codec") is kept in: role id, secret id."""
    return f"{login}-role-id", f"{login}-secret-id"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEALED_", extra="forbid")

    data_dir: Path = Path(".sealed")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = TASK_QUEUE
    vault_addr: str = "http://127.0.0.1:8200"
    # An operator's token for `sealed bootstrap`, `profiles` and `revoke` (the dev
    # stack's root token when unset); never used by a worker, never handed to a mission.
    vault_token: SecretStr | None = None
    # The worker's AppRole (files in data_dir, as bootstrap writes them, when unset).
    vault_role_id: str | None = None
    vault_secret_id: SecretStr | None = None
    # The codec server's AppRole: it may read the codec keys and nothing else.
    codec_role_id: str | None = None
    codec_secret_id: SecretStr | None = None
    audit_log: Path | None = Field(default=None, description="default: data_dir/audit.log")
    # Where this log's head is anchored in OpenBao: one name per log file.
    audit_anchor: str = Field(default_factory=socket.gethostname)
    # AWS credentials for the worker itself come from boto3's usual chain (an
    # instance or task role); missions get per-call STS sessions from it.
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    agentcore_workload: str | None = None
    tickets_url: str = "http://127.0.0.1:8765"
    # Payload encryption (sealed.codec): keys from a file or the environment, else
    # from OpenBao KV, read with the codec login (or the worker's, which may too).
    codec_keys: SecretStr | None = None
    codec_keys_file: Path | None = None
    codec_url: str = "http://127.0.0.1:8234"
    codec_token: SecretStr | None = None
    tool_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOL_MODULES))
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    def audit_path(self) -> Path:
        return self.audit_log or self.data_dir / "audit.log"

    def _missing(self, setting: str, name: str) -> SystemExit:
        return SystemExit(
            f"no {setting}: set SEALED_{setting.upper()}, or run `sealed bootstrap` "
            f"or the dev stack ({self.data_dir / name} missing)"
        )

    def _dev_file(self, setting: str, name: str) -> str:
        try:
            return (self.data_dir / name).read_text().strip()
        except FileNotFoundError:
            raise self._missing(setting, name) from None

    def approle(self, login: Literal["worker", "codec"]) -> tuple[str, str] | None:
        """An AppRole login (role id, secret id) when this process has it: set,
        or its files in data_dir."""
        role_id, secret_id = (
            (self.vault_role_id, self.vault_secret_id)
            if login == "worker"
            else (self.codec_role_id, self.codec_secret_id)
        )
        role_file, secret_file = login_files(login)
        if role_id is None and not (self.data_dir / role_file).exists():
            return None
        prefix = "vault" if login == "worker" else "codec"
        return (
            role_id or self._dev_file(f"{prefix}_role_id", role_file),
            _revealed(secret_id) or self._dev_file(f"{prefix}_secret_id", secret_file),
        )

    def worker_approle(self) -> tuple[str, str]:
        found = self.approle("worker")
        if found is None:
            raise self._missing("vault_role_id", login_files("worker")[0])
        return found

    def codec_bearer(self) -> str:
        return _revealed(self.codec_token) or self._dev_file("codec_token", CODEC_TOKEN_FILE)

    def operator_token(self) -> str:
        return _revealed(self.vault_token) or self._dev_file("vault_token", ROOT_TOKEN_FILE)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("SEALED_CONFIG", "sealed.toml"))
        secrets_dir = Path(os.environ.get("SEALED_SECRETS_DIR", SECRETS_DIR))
        secrets = (
            (SecretsSettingsSource(settings_cls, secrets_dir),) if secrets_dir.is_dir() else ()
        )
        return (
            init_settings,
            env_settings,
            *secrets,
            TomlConfigSettingsSource(settings_cls, toml_file),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests that change the environment clear the cache."""
    return Settings()
