"""`sealed curate export`: what is wrong with the command line is said before
anything is read or written (the rest runs on the real stack:
tests/integration/test_curate_export.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sealed.cli import app


def export(*args: str):
    return CliRunner().invoke(app, ["curate", "export", *args])


def said(result) -> str:
    """The output as one line: typer boxes and wraps a usage error."""
    return " ".join(result.output.replace("│", " ").split())


def test_a_bad_since_says_what_it_takes(tmp_path: Path):
    result = export("--out", str(tmp_path / "x.jsonl"), "--since", "last tuesday")
    assert result.exit_code == 2
    assert "give an age (24h, 7d), a date (2026-01-31)" in said(result)


def test_an_unfinished_status_is_refused(tmp_path: Path):
    result = export("--out", str(tmp_path / "x.jsonl"), "--status", "running")
    assert result.exit_code == 2
    assert "running: not finished" in said(result)


@pytest.mark.parametrize("name", ["Support", "x/../y"])
def test_a_profile_name_is_checked(tmp_path: Path, name: str):
    result = export("--out", str(tmp_path / "x.jsonl"), "--profile", name)
    assert result.exit_code == 2
    assert "not a profile name" in said(result)


def test_an_existing_file_is_not_replaced_unless_forced(tmp_path: Path):
    out = tmp_path / "x.jsonl"
    out.write_text("keep me\n")
    result = export("--out", str(out))
    assert result.exit_code == 2
    assert "x.jsonl exists: choose another --out, or pass --force to replace it" in said(result)
    assert out.read_text() == "keep me\n"


def test_the_output_folder_must_exist(tmp_path: Path):
    result = export("--out", str(tmp_path / "missing" / "x.jsonl"))
    assert result.exit_code == 2
    assert "is not a folder" in said(result)


def test_the_output_is_a_file(tmp_path: Path):
    result = export("--out", str(tmp_path), "--force")
    assert result.exit_code == 2
    assert "is a folder: --out names the file to write" in said(result)


def test_it_is_listed_among_the_commands():
    result = CliRunner().invoke(app, ["curate", "--help"])
    assert result.exit_code == 0 and "export" in said(result)
