"""What `sealed.client` gives `Client.connect` as `tls`: on as soon as anything
that needs it is set, and never an API key or a certificate in clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from sealed.client import ConnectionSettingsError, tls_config
from sealed.config import Settings


def settings(**fields: object) -> Settings:
    return Settings.model_validate({"data_dir": Path("/nonexistent"), **fields})


def test_plain_by_default_for_the_dev_stack() -> None:
    assert tls_config(settings()) is False


def test_an_api_key_turns_tls_on_with_the_system_roots() -> None:
    config = tls_config(settings(temporal_api_key=SecretStr("k")))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert is None and config.client_cert is None


def test_tls_true_alone_uses_the_system_roots() -> None:
    assert isinstance(tls_config(settings(temporal_tls=True)), TLSConfig)


def test_files_and_server_name_are_what_the_handshake_uses(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_bytes(name.encode())
    config = tls_config(
        settings(
            temporal_tls_ca_file=tmp_path / "ca.pem",
            temporal_tls_cert_file=tmp_path / "cert.pem",
            temporal_tls_key_file=tmp_path / "key.pem",
            temporal_tls_server_name="cluster.internal",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == b"ca.pem"
    assert (config.client_cert, config.client_private_key) == (b"cert.pem", b"key.pem")
    assert config.domain == "cluster.internal"


@pytest.mark.parametrize(
    "fields",
    [
        {"temporal_api_key": SecretStr("k")},
        {"temporal_tls_ca_file": Path("ca.pem")},
        {"temporal_tls_server_name": "cluster.internal"},
        {"temporal_tls_cert_file": Path("c"), "temporal_tls_key_file": Path("k")},
    ],
)
def test_tls_off_with_anything_that_needs_it_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ConnectionSettingsError, match="only ever used over TLS"):
        tls_config(settings(temporal_tls=False, **fields))


@pytest.mark.parametrize("given", ["temporal_tls_cert_file", "temporal_tls_key_file"])
def test_mtls_needs_both_halves(given: str) -> None:
    with pytest.raises(ConnectionSettingsError, match="both"):
        tls_config(settings(**{given: Path("x.pem")}))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConnectionSettingsError, match=r"CA certificate .*missing\.pem"):
        tls_config(settings(temporal_tls_ca_file=tmp_path / "missing.pem"))
