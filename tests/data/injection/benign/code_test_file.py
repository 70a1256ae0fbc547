import os

import pytest


def test_reads_token_from_env(monkeypatch):
    monkeypatch.setenv("APP_TOKEN", "dummy")
    assert os.environ["APP_TOKEN"] == "dummy"


@pytest.mark.skip(reason="ignore on CI: needs the system keychain")
def test_keychain(): ...
