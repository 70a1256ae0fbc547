"""docker-compose.yml cannot run here (no Docker engine) but must stay valid."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
COMPOSE = shutil.which("docker-compose")


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose not installed (make test installs it)")
def test_compose_file_is_valid(tmp_path):
    password = tmp_path / "pw.txt"
    password.write_text("example\n")
    env = {
        **os.environ,
        "SEALED_WORKER_VAULT_TOKEN": "example",
        "SEALED_POSTGRES_PASSWORD_FILE": str(password),
    }
    assert COMPOSE is not None
    done = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose not installed (make test installs it)")
def test_compose_refuses_to_start_a_worker_without_its_own_token():
    env = {k: v for k, v in os.environ.items() if k != "SEALED_WORKER_VAULT_TOKEN"}
    assert COMPOSE is not None
    done = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode != 0 and "worker's Vault token" in done.stderr
