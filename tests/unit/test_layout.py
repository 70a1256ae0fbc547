"""The layout holds: one room per part of the spine, imports that run one way
(CLI -> workers -> workflows/activities -> spine -> models), and no module the
next engineer has to scroll through for long."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
APPS = ("workflows", "activities", "workers")
MAX_LINES = 600


def python_files(top: Path) -> Iterator[Path]:
    """Not following links: sealed/workflows etc. are the top-level folders."""
    for folder, _, files in os.walk(top):
        for name in files:
            if name.endswith(".py"):
                yield Path(folder) / name


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] in APPS:
        parts.insert(0, "sealed")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return set()


def _module_level(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time: not inside a function or class."""
    for node in nodes:
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from _module_level(getattr(node, field, []))


def imports(path: Path, *, at_import_time: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    nodes = _module_level(tree.body) if at_import_time else ast.walk(tree)
    return {name for node in nodes for name in _names(node)}


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


LIBRARY = [p for p in python_files(ROOT / "sealed") if not within(module_name(p), "sealed.cli")]
APP_FILES = [p for app in APPS for p in python_files(ROOT / app)]
PROJECT = [
    *python_files(ROOT / "sealed"),
    *APP_FILES,
    *python_files(ROOT / "tests"),
    *python_files(ROOT / "bench"),
]
PROJECT = [p for p in PROJECT if "tests/data" not in p.as_posix()]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_imports_the_apps(path):
    bad = {
        name
        for name in imports(path)
        if within(name, "sealed.workflows", "sealed.workers", "sealed.activities", *APPS)
    }
    assert not bad, f"{module_name(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", list(python_files(ROOT / "sealed" / "cli")), ids=lambda p: p.name)
def test_the_cli_imports_the_apps_lazily(path):
    eager = {
        n
        for n in imports(path, at_import_time=True)
        if within(n, "sealed.workflows", "sealed.workers")
    }
    assert not eager, f"{module_name(path)} imports {sorted(eager)} at import time"


def test_the_apps_import_one_way():
    """workflows see only the contracts; activities never the worker or the
    workflow; nothing imports the CLI."""
    for path in python_files(ROOT / "workflows"):
        spine = {n for n in imports(path) if within(n, "sealed")}
        allowed = {
            "sealed.contract",
            "sealed.models",
            "sealed.types",
            "sealed.workflows",
            "sealed.approvals",  # pure: decisions are checked in the workflow
            "sealed.directives",  # pure: policies are evaluated in the workflow
        }
        assert all(any(within(n, a) for a in allowed) for n in spine), (path, spine)
    for path in python_files(ROOT / "activities"):
        assert not {n for n in imports(path) if within(n, "sealed.workers", "sealed.workflows")}
    entry_point = ROOT / "sealed" / "__main__.py"
    for path in [*LIBRARY, *APP_FILES]:
        if path != entry_point:
            assert not {n for n in imports(path) if within(n, "sealed.cli")}, path


@pytest.mark.parametrize("path", PROJECT, ids=lambda p: str(p.relative_to(ROOT)))
def test_one_installed_name(path):
    """workflows/, activities/ and workers/ are imported as sealed.*, never
    by their folder names (which a user's own Temporal app may use too)."""
    bare = {n for n in imports(path) if within(n, *APPS)}
    assert not bare, f"{path.relative_to(ROOT)} imports {sorted(bare)}"


OPENBAO_HOMES = (
    "sealed/identity/openbao/",
    "sealed/identity/bootstrap.py",
    "sealed/devstack/openbao.py",
)


def test_one_home_for_openbao():
    """hvac is imported where OpenBao is talked to, and nowhere else."""
    talking = {
        str(p.relative_to(ROOT))
        for p in [*python_files(ROOT / "sealed"), *APP_FILES]
        if any(within(n, "hvac") for n in imports(p))
    }
    assert talking and all(t.startswith(OPENBAO_HOMES) for t in talking), talking


@pytest.mark.parametrize("room", ["audit", "identity", "pinning", "redaction"])
def test_the_spine_is_testable_without_temporal(room):
    """What every activity goes through is plain code: Temporal stays in the
    apps, the codec and the client side."""
    for path in python_files(ROOT / "sealed" / room):
        assert not {n for n in imports(path) if within(n, "temporalio")}, path


def test_no_module_is_too_long():
    long = {
        str(p.relative_to(ROOT)): n
        for p in [*python_files(ROOT / "sealed"), *APP_FILES]
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long


def test_the_app_folders_are_linked_into_the_package():
    for name in (*APPS, "examples"):
        link = ROOT / "sealed" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve()
