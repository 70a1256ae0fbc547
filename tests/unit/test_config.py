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
