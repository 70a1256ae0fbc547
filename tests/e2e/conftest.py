"""The environment of a user's fresh machine: a data directory of its own and
free ports, so the test never meets a `sealed dev` running on the defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealed.devstack import free_ports


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    temporal, ui, vault, tickets, codec = free_ports(5)
    return {
        **os.environ,
        "SEALED_DATA_DIR": str(tmp_path / "data"),
        "SEALED_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
        "SEALED_TEMPORAL_UI_URL": f"http://127.0.0.1:{ui}",
        "SEALED_VAULT_ADDR": f"http://127.0.0.1:{vault}",
        "SEALED_TICKETS_URL": f"http://127.0.0.1:{tickets}",
        "SEALED_CODEC_URL": f"http://127.0.0.1:{codec}",
    }
