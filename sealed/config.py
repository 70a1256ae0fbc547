"""Settings: environment variables (SEALED_*), then secret files (Docker's and
Kubernetes' convention: /run/secrets/sealed_<field>, or the folder
SEALED_SECRETS_DIR names), then a settings file (`sealed.toml` in the working
directory, or the file SEALED_CONFIG names), then the embedded defaults, so that
nothing needs setting for the dev stack.

The dev stack keeps its logins and tokens as 0600 files in the data directory
(named here, written by sealed.identity.bootstrap and sealed.devstack); a
setting of the same name wins over each."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sealed.contract import TASK_QUEUE
from sealed.types import ProfileName

DEFAULT_TOOL_MODULES = ["sealed.tools.tickets", "sealed.tools.http"]
SECRETS_DIR = "/run/secrets"
ROOT_TOKEN_FILE = "vault-root-token"
CODEC_TOKEN_FILE = "codec-token"
# The embedded stack's approval inbox: the webhook's HMAC secret, the readers' token.
WEBHOOK_SECRET_FILE = "approval-webhook-secret"
INBOX_TOKEN_FILE = "approval-inbox-token"


def _revealed(value: SecretStr | None) -> str | None:
    # Credentials are SecretStr so that printing the settings never shows them.
    return None if value is None else value.get_secret_value()


def login_name(login: Literal["worker", "codec"], profiles: Collection[str] = ()) -> str:
    """An AppRole login's name, which names its files and its AppRole
    (`sealed-<name>`): "worker" (the shared worker), "codec", or for a
    per-profile worker "worker-" and its profiles, sorted and joined by "_": a
    profile name holds no "_", so a set has one name and no two sets share one."""
    if not profiles:
        return login
    if login != "worker":
        raise ValueError(f"only a worker login is per-profile, not {login!r}")
    return f"worker-{'_'.join(sorted(set(profiles)))}"


def _login_name() -> str:
    try:
        name = getpass.getuser().lower()
    except (KeyError, OSError):  # no user name in a bare container
        return "operator"
    if name == "demo-approver":  # sealed.demo.DEMO_APPROVER: it approves what an operator submits
        return "operator"
    return name if re.fullmatch(r"[a-z0-9][a-z0-9._@-]{0,99}", name) else "operator"


def login_files(name: str) -> tuple[str, str]:
    """The files a login (named by login_name) is kept in: role id, secret id."""
    return f"{name}-role-id", f"{name}-secret-id"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEALED_", extra="forbid")

    data_dir: Path = Path(".sealed")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # Temporal Cloud or any TLS cluster (sealed.client): an API key, sent only
    # over TLS; mTLS with a client certificate and its key; the CA that signed
    # the server's certificate (the system's roots when unset). TLS is on as
    # soon as any of these is set; `temporal_tls = false` with one is refused.
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool | None = None
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    task_queue: str = TASK_QUEUE
    vault_addr: str = "http://127.0.0.1:8200"
    # An operator's token for `sealed bootstrap`, `profiles` and `revoke` (the dev
    # stack's root token when unset); never used by a worker, never handed to a mission.
    vault_token: SecretStr | None = None
    # A per-profile worker: it serves only these (dedicated) profiles, each on its
    # own task queue, with the login `sealed bootstrap --worker-for` made for this
    # set. Empty: the shared worker. SEALED_WORKER_PROFILES=a,b (or a JSON list).
    worker_profiles: Annotated[list[ProfileName], NoDecode] = Field(default_factory=list)
    # The worker's AppRole, for its set of profiles if any (files in data_dir, as
    # bootstrap writes them, when unset).
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
    # Sealed V: the system-wide directives (Cedar), added to the shipped
    # defaults for every mission this worker runs; checked when it starts.
    directives_file: Path | None = None
    # What model tokens cost (sealed.llm.prices): a YAML or JSON file,
    # `prices: {<model>: {input: <USD per million tokens>, output: ...}}`, merged
    # over the built-in list prices; directives' cost limits count with it.
    model_prices_file: Path | None = None
    # Human approval (IV): who this operator is (a mission's submitter cannot
    # approve its calls), and where waiting requests are POSTed (HMAC-signed).
    operator: str = Field(default_factory=_login_name, pattern=r"^[a-z0-9][a-z0-9._@-]{0,99}$")
    # A webhook URL often carries its own credential (Slack's, Teams'): kept secret.
    approval_webhooks: list[SecretStr] = Field(default_factory=list)
    approval_webhook_secret: SecretStr | None = None
    # Where `sealed pending --inbox` reads what the webhook delivered (the
    # embedded stack's receiver), with this bearer token (or data_dir's file).
    approval_inbox_url: str | None = None
    approval_inbox_token: SecretStr | None = None
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    @field_validator("worker_profiles", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("worker_profiles")
    @classmethod
    def _one_set(cls, profiles: list[str]) -> list[str]:
        return sorted(set(profiles))  # a, b and b, a are one login

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
        or its files in data_dir. A worker's is the one for its worker_profiles."""
        role_id, secret_id = (
            (self.vault_role_id, self.vault_secret_id)
            if login == "worker"
            else (self.codec_role_id, self.codec_secret_id)
        )
        role_file, secret_file = login_files(
            login_name(login, self.worker_profiles if login == "worker" else ())
        )
        if role_id is None and not (self.data_dir / role_file).exists():
            return None
        prefix = "vault" if login == "worker" else "codec"
        return (
            role_id or self._dev_file(f"{prefix}_role_id", role_file),
            _revealed(secret_id) or self._dev_file(f"{prefix}_secret_id", secret_file),
        )

    def worker_approle(self) -> tuple[str, str]:
        found = self.approle("worker")
        if found is not None:
            return found
        role_file = login_files(login_name("worker", self.worker_profiles))[0]
        if not self.worker_profiles:
            raise self._missing("vault_role_id", role_file)
        profiles = ",".join(self.worker_profiles)
        raise SystemExit(
            f"no worker login for profiles {profiles}: run `sealed bootstrap --worker-for "
            f"{profiles}` (it refuses a profile that is not registered and dedicated), or set "
            f"SEALED_VAULT_ROLE_ID ({self.data_dir / role_file} missing)"
        )

    def codec_bearer(self) -> str:
        return _revealed(self.codec_token) or self._dev_file("codec_token", CODEC_TOKEN_FILE)

    def inbox_bearer(self) -> str:
        return _revealed(self.approval_inbox_token) or self._dev_file(
            "approval_inbox_token", INBOX_TOKEN_FILE
        )

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
