"""Files that hold a credential (a login, a token, an unseal key): created with
mode 0600 from the first byte and replaced whole, never readable by others or
half-written."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # A temporary left by a crash keeps the mode it was created with: set ours.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    tmp.replace(path)


def private_random(path: Path) -> str:
    """A random value kept across restarts in `path`, made on first use."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()
