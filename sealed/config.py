"""Settings: environment variables (SEALED_*), then a settings file
(`sealed.toml` in the working directory, or the file SEALED_CONFIG names),
then the embedded defaults, so that nothing needs setting for the dev stack."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sealed.contract import TASK_QUEUE

DEFAULT_TOOL_MODULES = ["sealed.tools.tickets", "sealed.tools.http"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEALED_", extra="forbid")

    data_dir: Path = Path(".sealed")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = TASK_QUEUE
    vault_addr: str = "http://127.0.0.1:8200"
    # An operator's token for `sealed profiles`/`sealed revoke` (the dev stack's
    # root token when unset); never used by a worker, never handed to a mission.
    vault_token: str | None = None
    # The worker's AppRole (the dev stack's files in data_dir when unset).
    vault_role_id: str | None = None
    vault_secret_id: str | None = None
    audit_log: Path | None = Field(default=None, description="default: data_dir/audit.log")
    # AWS credentials for the worker itself come from boto3's usual chain (an
    # instance or task role); missions get per-call STS sessions from it.
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    agentcore_workload: str | None = None
    tickets_url: str = "http://127.0.0.1:8765"
    # Payload encryption (sealed.codec): keys from a file or the environment in
    # production, from OpenBao KV (read with the worker's AppRole) in the dev stack.
    codec_keys: SecretStr | None = None
    codec_keys_file: Path | None = None
    codec_vault_path: str = "sealed/codec/keys"
    codec_url: str = "http://127.0.0.1:8234"
    codec_token: SecretStr | None = None
    tool_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOL_MODULES))
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    def audit_path(self) -> Path:
        return self.audit_log or self.data_dir / "audit.log"

    def _dev_file(self, setting: str, name: str) -> str:
        path = self.data_dir / name
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            raise SystemExit(
                f"no {setting}: set SEALED_{setting.upper()} or start the dev stack "
                f"({path} missing)"
            ) from None

    def worker_approle(self) -> tuple[str, str]:
        return (
            self.vault_role_id or self._dev_file("vault_role_id", "worker-role-id"),
            self.vault_secret_id or self._dev_file("vault_secret_id", "worker-secret-id"),
        )

    def codec_bearer(self) -> str:
        if self.codec_token is not None:
            return self.codec_token.get_secret_value()
        return self._dev_file("codec_token", "codec-token")

    def operator_token(self) -> str:
        return self.vault_token or self._dev_file("vault_token", "vault-root-token")

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
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests that change the environment clear the cache."""
    return Settings()
