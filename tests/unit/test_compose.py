"""docker-compose.yml cannot run here (no Docker engine) but must stay valid,
and its shape must hold: the bootstrap init service provisions OpenBao with
`sealed bootstrap` before the worker and codec server start, only it holds the
operator token (as a secret file), and each of them reads only its own login."""

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


def compose(
    env: dict[str, str], *args: str, files: tuple[str, ...] = ("docker-compose.yml",)
) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    chosen = [option for name in files for option in ("-f", str(ROOT / name))]
    return subprocess.run(
        [COMPOSE, *chosen, "config", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    files = {}
    for name in ("postgres", "vault", "codec"):
        files[name] = tmp_path / name
        files[name].write_text(f"{name}-example\n")
    return {
        **os.environ,
        "SEALED_VAULT_TOKEN_FILE": str(files["vault"]),
        "SEALED_CODEC_TOKEN_FILE": str(files["codec"]),
        "SEALED_POSTGRES_PASSWORD_FILE": str(files["postgres"]),
        "SEALED_PROFILES_DIR": str(ROOT / "examples" / "profiles"),
    }


def test_compose_file_is_valid(env):
    done = compose(env, "-q")
    assert done.returncode == 0, done.stderr


def test_bootstrap_first_and_each_service_reads_only_its_own_login(env):
    done = compose(env)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    bootstrap = services["bootstrap"]
    assert bootstrap["command"][:2] == ["sealed", "bootstrap"]
    assert [s["source"] for s in bootstrap["secrets"]] == ["sealed_vault_token"]
    logins = {
        "worker": "worker-login:/run/sealed/worker",
        "codec-server": "codec-login:/run/sealed/codec",
    }
    for name, login in logins.items():
        service = services[name]
        assert service["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"
        assert "sealed_vault_token" not in yaml.safe_dump(service)
        assert not any("TOKEN" in key for key in service["environment"])
        assert f"{login}:ro" in service["volumes"]
        other = next(v for n, v in logins.items() if n != name)
        assert not any(v.startswith(other.split(":")[0]) for v in service["volumes"])
        assert service["environment"]["SEALED_DATA_DIR"] == login.split(":")[1]


@pytest.mark.parametrize(
    ("missing", "says"),
    [
        ("SEALED_VAULT_TOKEN_FILE", "operator token"),
        ("SEALED_PROFILES_DIR", "agent profiles"),
        ("SEALED_CODEC_TOKEN_FILE", "bearer token"),
    ],
)
def test_compose_refuses_what_is_not_given(env, missing, says):
    done = compose({k: v for k, v in env.items() if k != missing}, "-q")
    assert done.returncode != 0 and says in done.stderr


DEDICATED = ("docker-compose.yml", "deploy/docker-compose.dedicated.yml")


def test_a_per_profile_worker_reads_only_its_own_login(env):
    """Red team 7: bootstrap makes the dedicated profiles' login into a volume
    only the per-profile worker mounts; it serves exactly those profiles."""
    done = compose({**env, "SEALED_DEDICATED_PROFILES": "a,b"}, files=DEDICATED)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert "--worker-for=a,b=/run/sealed/worker-dedicated" in services["bootstrap"]["command"]
    dedicated = services["worker-dedicated"]
    assert dedicated["environment"]["SEALED_WORKER_PROFILES"] == "a,b"
    assert dedicated["environment"]["SEALED_DATA_DIR"] == "/run/sealed/worker-dedicated"
    logins = [v for v in dedicated["volumes"] if "login" in v]
    assert logins == ["worker-dedicated-login:/run/sealed/worker-dedicated:ro"]
    assert not any("dedicated" in v for v in services["worker"]["volumes"])
    assert "sealed_vault_token" not in yaml.safe_dump(dedicated)
    missing = compose(env, "-q", files=DEDICATED)
    assert missing.returncode != 0 and "dedicated profiles" in missing.stderr
