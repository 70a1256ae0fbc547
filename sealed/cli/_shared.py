"""What every command group shares: settings pointed at the running stack,
errors as a red line and an exit code, the operator's OpenBao client."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from sealed.config import Settings
from sealed.devstack import find_running
from sealed.identity.openbao.admin import VaultAdmin

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="where the embedded stack keeps its state")
]


def settings() -> Settings:
    """Settings pointed at the running dev stack when there is one, except what
    the environment or sealed.toml sets: an operator who names a production
    OpenBao is never retargeted at a local stack (with the production token)."""
    base = Settings()
    info = find_running(base.data_dir)
    if info is None:
        return base
    explicit = {name: getattr(base, name) for name in base.model_fields_set}
    return info.settings().model_copy(update=explicit)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


def admin(settings: Settings) -> VaultAdmin:
    return VaultAdmin(settings.vault_addr, settings.operator_token())


def actor() -> str:
    return os.environ.get("SEALED_ACTOR") or getpass.getuser()
