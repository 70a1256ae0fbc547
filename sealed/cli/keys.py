"""`sealed keys new | register | list | remove`: approvers' Ed25519 keys
(Sealed IV). The private key stays in its file (0600, never printed); the
public key is registered by name in OpenBao, with the operator's token, where
workers read it to check that approver's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sealed.approvals.keys import (
    ApproverKeyError,
    check_public,
    fingerprint,
    new_key,
    public_text,
    write_key,
)
from sealed.cli._shared import admin, approver_arg, fail, settings
from sealed.config import Settings
from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.admin import ApproverExists

app = typer.Typer(no_args_is_help=True, help="Approvers' signing keys (human approval).")

ApproverArg = Annotated[
    str, typer.Argument(callback=approver_arg, help="approver name (lower case, may be an e-mail)")
]
Replace = Annotated[
    bool, typer.Option("--replace", help="replace a key already registered under this name")
]


def default_key_file(current: Settings, name: str) -> Path:
    return current.data_dir / "approvers" / f"{name}.key"


def _register(name: str, public: str, replace: bool) -> None:
    operator = admin(settings())
    try:
        added = operator.call(
            f"approver '{name}'",
            lambda _: operator.register_approver(name, public, replace=replace),
        )
    except ApproverExists as exc:
        raise fail(f"{exc} (--replace)") from exc
    except SecretUnavailable as exc:
        raise fail(f"cannot register '{name}': {exc}") from exc
    typer.echo(
        f"registered approver '{name}' in OpenBao"
        if added
        else f"approver '{name}' was registered with this key already"
    )


@app.command("new")
def new(
    name: ApproverArg,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file", help="where to write the private key (data_dir/approvers/NAME.key)"
        ),
    ] = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="register the public key in OpenBao")
    ] = True,
    replace: Replace = False,
) -> None:
    """Make an approver's key pair and register its public key.

    The private key goes into a new file (0600) and is never printed; the
    public key and its fingerprint are."""
    current = settings()
    path = key_file or default_key_file(current, name)
    if path.exists() or path.is_symlink():
        raise fail(f"{path} exists: not overwriting a key (choose another --key-file)", code=2)
    if register and not replace:
        operator = admin(current)
        try:  # before a file is made that nothing could use
            registered = operator.call(f"approver '{name}'", lambda _: operator.approver(name))
        except SecretUnavailable as exc:
            raise fail(f"cannot reach OpenBao to register '{name}': {exc}") from exc
        if registered is not None:
            raise fail(f"approver '{name}' is registered with another key already (--replace)")
    key = new_key()
    public = public_text(key)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_key(path, key)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}", code=2) from exc
    typer.echo(f"private key: {path} (0600; keep it to yourself)")
    typer.echo(f"public key:  {public}")
    typer.echo(f"fingerprint: {fingerprint(public)}")
    if register:
        _register(name, public, replace)
    else:
        typer.echo(f"not registered: `sealed keys register {name} {public}`")


@app.command("register")
def register(
    name: ApproverArg,
    public_key: Annotated[str, typer.Argument(help="the public key, ed25519:<base64>")],
    replace: Replace = False,
) -> None:
    """Register a public key made elsewhere under NAME."""
    try:
        check_public(public_key)
    except ApproverKeyError as exc:
        raise fail(f"not a public key: {exc}", code=2) from exc
    typer.echo(f"fingerprint: {fingerprint(public_key)}")
    _register(name, public_key, replace)


@app.command("list")
def list_() -> None:
    """Registered approvers and their keys' fingerprints."""
    operator = admin(settings())
    try:
        found = operator.call("approvers", lambda _: operator.approvers())
    except SecretUnavailable as exc:
        raise fail(f"cannot read the approvers: {exc}") from exc
    if not found:
        typer.echo("no approvers registered (`sealed keys new NAME`)")
    for name, public in found.items():
        typer.echo(f"{name:40} {fingerprint(public) if public else '(no valid key)'}")


@app.command("remove")
def remove(name: ApproverArg) -> None:
    """Forget an approver's key (a lost or leaked one).

    No decision signed with it counts once the workers' caches expire (seconds)."""
    operator = admin(settings())
    try:
        removed = operator.call(f"approver '{name}'", lambda _: operator.remove_approver(name))
    except SecretUnavailable as exc:
        raise fail(f"cannot remove '{name}': {exc}") from exc
    if not removed:
        raise fail(f"no approver '{name}' registered")
    typer.echo(f"removed approver '{name}'")
