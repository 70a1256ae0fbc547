"""`sealed bootstrap`: provision OpenBao / Vault for the runtime (idempotent),
with an operator token: what `sealed dev` does on every start, and what the
production shape's init service runs before the workers start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sealed.cli._shared import admin, check_profile_name, fail, settings
from sealed.config import login_name
from sealed.identity.bootstrap import DEFAULT_SECRET_ID_TTL, BootstrapError, bootstrap
from sealed.spec_loader import SpecError


def _worker_set(value: str) -> tuple[tuple[str, ...], Path | None]:
    """`a,b` or `a,b=DIR`: a per-profile worker's profiles, and where its login goes."""
    names, _, where = value.partition("=")
    profiles = tuple(sorted({check_profile_name(n.strip()) for n in names.split(",")}))
    return profiles, Path(where) if where else None


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
    codec_credentials_dir: Annotated[
        Path | None,
        typer.Option(
            "--codec-credentials-dir",
            help="where the codec server's login is written (default: --credentials-dir)",
        ),
    ] = None,
    secret_id_ttl: Annotated[
        str, typer.Option(help="how long the new secret ids stay valid")
    ] = DEFAULT_SECRET_ID_TTL,
    replace_logins: Annotated[
        bool,
        typer.Option(
            "--replace-logins",
            help="destroy the earlier secret ids (restart the worker and codec server after)",
        ),
    ] = False,
    worker_for: Annotated[
        list[str] | None,
        typer.Option(
            "--worker-for",
            metavar="PROFILES[=DIR]",
            help=(
                "a per-profile worker's login for these dedicated profiles (comma-separated),"
                " able to mint under their token roles only; written to DIR, else to"
                " --credentials-dir; repeatable"
            ),
        ),
    ] = None,
) -> None:
    """Provision OpenBao for Sealed (idempotent).

    Creates, or checks, the KV mount, the codec keys, the redaction key, the
    identity token issuer, the profiles, the shared worker's, each per-profile
    worker's (--worker-for) and the codec server's AppRoles, whose logins it
    writes as 0600 files."""
    current = settings()
    try:
        sets = dict(_worker_set(value) for value in worker_for or [])
    except typer.BadParameter as exc:
        raise fail(f"--worker-for: {exc}", code=2) from exc
    worker_dir = credentials_dir or current.data_dir
    where = {
        "worker": worker_dir,
        "codec": codec_credentials_dir or worker_dir,
        **{login_name("worker", names): d or worker_dir for names, d in sets.items()},
    }
    try:
        report, logins = bootstrap(
            admin(current),
            profiles=profiles,
            secret_id_ttl=secret_id_ttl,
            replace_logins=replace_logins,
            workers_for=list(sets),
        )
    except (FileNotFoundError, SpecError) as exc:
        raise fail(str(exc), code=2) from exc
    except BootstrapError as exc:
        raise fail(f"bootstrap of {current.vault_addr} failed at {exc}") from exc
    try:
        for login in logins:
            login.write(where[login.name])
    except OSError as exc:
        raise fail(f"cannot write the AppRole logins: {exc}") from exc
    typer.echo(f"OpenBao at {current.vault_addr} is ready for Sealed:")
    keys = ", ".join(report.codec_key_ids)
    typer.echo(f"  codec keys      {keys} (current {report.codec_current})")
    typer.echo(f"  profiles        {', '.join(report.profiles_applied) or 'none applied'}")
    if report.profiles_revoked:
        typer.echo(f"  left revoked    {', '.join(report.profiles_revoked)}")
    for login in logins:
        label = f"{login.name} login"
        typer.echo(f"  {label:15} written to {where[login.name]} (valid {secret_id_ttl})")
