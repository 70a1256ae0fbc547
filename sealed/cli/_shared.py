"""What every command group shares: settings pointed at the running stack,
errors as a red line and an exit code, the operator's OpenBao client."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError

from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.devstack import find_running
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.stores import vault_audit_log
from sealed.types import ApproverName, MissionId, ProfileName

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


def _checked(kind: type[Any], what: str) -> Callable[[str], str]:
    adapter = TypeAdapter(kind)

    def check(value: str) -> str:
        try:
            return str(adapter.validate_python(value))
        except ValidationError:
            raise typer.BadParameter(f"not a {what}: {value!r}") from None

    return check


# Names that reach OpenBao paths and Temporal queries are checked at the door.
check_profile_name = _checked(ProfileName, "profile name (lower-case letters, digits, -)")
check_mission_id = _checked(MissionId, "mission id (letters, digits, . _ -)")
approver_arg = _checked(ApproverName, "approver name (lower-case letters, digits, . _ @ -)")
ProfileArg = Annotated[str, typer.Argument(callback=check_profile_name, help="a profile name")]
MissionArg = Annotated[str, typer.Argument(callback=check_mission_id, help="a mission id")]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


def admin(settings: Settings) -> VaultAdmin:
    return VaultAdmin(settings.vault_addr, settings.operator_token())


def audit_log(settings: Settings) -> AuditLog:
    """The audit log as an operator's command writes it: sealed with the key and
    anchored at once, both in OpenBao (refused if they cannot be read)."""
    operator = admin(settings)
    return vault_audit_log(settings.audit_path(), operator.call, settings.audit_anchor, interval=0)


def actor() -> str:
    return os.environ.get("SEALED_ACTOR") or getpass.getuser()
