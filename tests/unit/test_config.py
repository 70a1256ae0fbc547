"""Settings: environment over settings file over embedded defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sealed.config import DEFAULT_TOOL_MODULES, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in [k for k in __import__("os").environ if k.startswith("SEALED_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_embedded_defaults_need_nothing_set():
    settings = Settings()
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.tool_modules == DEFAULT_TOOL_MODULES


def test_settings_file_then_environment(monkeypatch, tmp_path):
    config = tmp_path / "prod.toml"
    config.write_text(
        'temporal_address = "temporal.internal:7233"\n'
        'tool_modules = ["sealed.tools.http"]\n'
        'task_queue = "from-file"\n'
    )
    monkeypatch.setenv("SEALED_CONFIG", str(config))
    monkeypatch.setenv("SEALED_TASK_QUEUE", "from-env")
    settings = Settings()
    assert settings.temporal_address == "temporal.internal:7233"
    assert settings.tool_modules == ["sealed.tools.http"]
    assert settings.task_queue == "from-env"


def test_sealed_toml_in_the_working_directory(tmp_path):
    (tmp_path / "sealed.toml").write_text('tickets_url = "http://tickets.internal"\n')
    assert Settings().tickets_url == "http://tickets.internal"


def test_unknown_setting_is_an_error(tmp_path):
    (tmp_path / "sealed.toml").write_text('temporal_adress = "typo:7233"\n')
    with pytest.raises(ValidationError, match="temporal_adress"):
        Settings()


def test_the_cli_uses_a_running_stack_but_never_over_explicit_settings(monkeypatch, tmp_path):
    """An operator with a local stack running who names a production OpenBao
    must reach that OpenBao, not the local one."""
    import json
    import os
    import socket

    from sealed.cli._shared import settings
    from sealed.devstack import StackInfo

    with socket.socket() as temporal:
        temporal.bind(("127.0.0.1", 0))
        temporal.listen()
        port = temporal.getsockname()[1]
        info = StackInfo(
            data_dir=tmp_path,
            owner_pid=os.getpid(),
            temporal_address=f"127.0.0.1:{port}",
            ui_url="http://127.0.0.1:1",
            vault_addr="http://127.0.0.1:2",
            tickets_url="http://127.0.0.1:3",
            codec_url="http://127.0.0.1:4",
            inbox_url="http://127.0.0.1:5",
            pids={},
        )
        (tmp_path / "stack.json").write_text(json.dumps(info.model_dump(mode="json")))
        monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path))
        assert settings().vault_addr == "http://127.0.0.1:2"
        monkeypatch.setenv("SEALED_VAULT_ADDR", "https://vault.prod:8200")
        current = settings()
    assert current.vault_addr == "https://vault.prod:8200"
    assert current.temporal_address == f"127.0.0.1:{port}"


def test_secret_files_between_environment_and_settings_file(monkeypatch, tmp_path):
    """Docker and Kubernetes secrets: /run/secrets/sealed_<field> (here a folder
    of our own) sets the field, so a token need not sit in the environment."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "sealed_vault_token").write_text("from-secret-file")
    (secrets / "sealed_task_queue").write_text("from-secret-file")
    (tmp_path / "sealed.toml").write_text('vault_token = "from-toml"\n')
    monkeypatch.setenv("SEALED_SECRETS_DIR", str(secrets))
    assert Settings().operator_token() == "from-secret-file"
    monkeypatch.setenv("SEALED_TASK_QUEUE", "from-env")
    assert Settings().task_queue == "from-env"


def test_printing_settings_or_a_login_shows_no_credential():
    from sealed.identity.bootstrap import AppRoleLogin

    settings = Settings(
        vault_token="op-token-1234", vault_secret_id="worker-sid-5678", codec_secret_id="codec-9012"
    )
    login = AppRoleLogin(login="worker", role_id="role", secret_id="worker-sid-5678")
    shown = f"{settings} {settings!r} {login} {login!r}"
    for credential in ("op-token-1234", "worker-sid-5678", "codec-9012"):
        assert credential not in shown
    assert settings.operator_token() == "op-token-1234"
