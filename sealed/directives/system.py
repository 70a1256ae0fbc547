"""The system-wide directives file a worker adds to every mission's: read and
checked when the worker starts, so a bad file stops it there (with file, line
and reason) instead of failing missions later."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sealed.directives.policies import DirectiveError, PolicySource, with_defaults
from sealed.directives.schema import checked

MAX_POLICY_BYTES = 256 * 1024


def read_policies(path: Path) -> str:
    """A Cedar file's text; DirectiveError naming it when it cannot be used."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise DirectiveError([f"{path}: cannot read it: {exc.strerror}"]) from exc
    if len(raw) > MAX_POLICY_BYTES:
        raise DirectiveError([f"{path}: over {MAX_POLICY_BYTES} bytes"])
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise DirectiveError([f"{path}: not UTF-8 text"]) from None


def system_source(path: Path) -> PolicySource:
    """A Cedar file as the system level of a mission's policies."""
    return PolicySource(level="system", text=read_policies(path), origin=str(path))


def system_directives(path: Path | None, tools: Mapping[str, Any]) -> PolicySource | None:
    if path is None:
        return None
    source = system_source(path)
    checked(with_defaults(source), tools)
    return source
