"""docker-compose.yml cannot run here (no Docker engine) but must stay valid."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
COMPOSE = shutil.which("docker-compose")


pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose not installed (make test installs it)"
)


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_compose_file_is_valid(tmp_path):
    password = tmp_path / "pw.txt"
    password.write_text("example\n")
    done = compose_config(
        {
            **os.environ,
            "SEALED_WORKER_ROLE_ID": "example",
            "SEALED_WORKER_SECRET_ID": "example",
            "SEALED_POSTGRES_PASSWORD_FILE": str(password),
        }
    )
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_a_worker_without_its_own_identity():
    done = compose_config(
        {k: v for k, v in os.environ.items() if not k.startswith("SEALED_WORKER")}
    )
    assert done.returncode != 0 and "worker's AppRole" in done.stderr
