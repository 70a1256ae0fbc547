"""`sealed bootstrap`: provision OpenBao / Vault for the runtime (idempotent),
with an operator token: what `sealed dev` does on every start, and what the
production shape's init service runs before the workers start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import hvac.exceptions
import requests
import typer

from sealed.cli._shared import admin, fail, settings
from sealed.identity.bootstrap import DEFAULT_SECRET_ID_TTL, bootstrap
from sealed.identity.openbao.admin import ProfileRevoked
from sealed.spec_loader import SpecError


def bootstrap_command(
    profiles: Annotated[
        Path | None, typer.Option("--profiles", help="a folder of profile YAML files to apply")
    ] = None,
    credentials_dir: Annotated[
        Path | None,
        typer.Option(
            "--credentials-dir",
            help="where the worker's AppRole login is written, mode 0600 (default: data_dir)",
        ),
    ] = None,
    secret_id_ttl: Annotated[
        str, typer.Option(help="how long the worker's new secret id stays valid")
    ] = DEFAULT_SECRET_ID_TTL,
) -> None:
    """Create (or check) the KV mount, codec keys, redaction key, identity token
    issuer, the worker's AppRole and the profiles; safe to run again."""
    current = settings()
    target = credentials_dir or current.data_dir
    try:
        report, approle, _ = bootstrap(
            admin(current),
            profiles=profiles,
            codec_keys_path=current.codec_vault_path,
            secret_id_ttl=secret_id_ttl,
        )
    except (FileNotFoundError, SpecError) as exc:
        raise fail(str(exc), code=2) from exc
    except ProfileRevoked as exc:
        raise fail(str(exc)) from exc
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        raise fail(f"{current.vault_addr}: {type(exc).__name__}: {exc}") from exc
    approle.write(target)
    typer.echo(f"OpenBao at {current.vault_addr} is ready for Sealed:")
    typer.echo(
        f"  codec keys      {', '.join(report.codec_key_ids)} (current {report.codec_current})"
    )
    typer.echo(f"  profiles        {', '.join(report.profiles_applied) or 'none applied'}")
    if report.profiles_revoked:
        typer.echo(f"  left revoked    {', '.join(report.profiles_revoked)}")
    typer.echo(f"  worker AppRole  written to {target} (secret id valid {secret_id_ttl})")
