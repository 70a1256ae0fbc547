"""Settings: environment variables (SEALED_*), then a settings file
(`sealed.toml` in the working directory, or the file SEALED_CONFIG names),
then the embedded defaults, so that nothing needs setting for the dev stack."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
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
    # Only the dev stack's root token: provisioning, never handed to a mission.
    vault_token: str | None = None
    tickets_url: str = "http://127.0.0.1:8765"
    tool_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOL_MODULES))
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

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
