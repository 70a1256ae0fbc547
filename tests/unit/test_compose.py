"""docker-compose.yml cannot run here (no Docker engine) but must stay valid,
and its shape must hold: the bootstrap init service provisions OpenBao with
`sealed bootstrap` before the workers start, and only it holds the operator token."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
COMPOSE = shutil.which("docker-compose")


pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose not installed (make test installs it)"
)


def compose(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    password = tmp_path / "pw.txt"
    password.write_text("example\n")
    return {
        **os.environ,
        "SEALED_VAULT_TOKEN": "operator-token-example",
        "SEALED_CODEC_TOKEN": "codec-token-example",
        "SEALED_POSTGRES_PASSWORD_FILE": str(password),
    }


def test_compose_file_is_valid(env):
    done = compose(env, "-q")
    assert done.returncode == 0, done.stderr


def test_bootstrap_runs_before_the_workers_and_only_it_holds_the_operator_token(env):
    done = compose(env)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert services["bootstrap"]["command"][:2] == ["sealed", "bootstrap"]
    for name in ("worker", "codec-server"):
        service = services[name]
        assert service["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"
        assert "SEALED_VAULT_TOKEN" not in service["environment"]
        assert "operator-token-example" not in yaml.safe_dump(service)
        # The AppRole login bootstrap wrote, read-only.
        assert "worker-identity:/run/sealed:ro" in service["volumes"]


def test_compose_refuses_to_bootstrap_without_an_operator_token(env):
    done = compose({k: v for k, v in env.items() if k != "SEALED_VAULT_TOKEN"}, "-q")
    assert done.returncode != 0 and "operator token" in done.stderr
