"""`sealed codec-server`: /encode and /decode for the Web UI and the CLI."""

from __future__ import annotations

from typing import Annotated

import typer

from sealed.cli._shared import fail, host_port, settings
from sealed.client import codec_keyring
from sealed.codec import CodecError
from sealed.codec.server import CodecServer, serve
from sealed.identity.backend import SecretUnavailable


def codec_server(
    allow_origin: Annotated[
        list[str] | None, typer.Option(help="a Web UI origin besides temporal_ui_url")
    ] = None,
    namespace: Annotated[
        list[str] | None, typer.Option(help="serve only these namespaces (default: any)")
    ] = None,
    signin_redirect: Annotated[
        list[str] | None,
        typer.Option(
            help=(
                "give one-time sign-in links (/signin) that open this Web UI origin "
                "(the embedded stack's); off by default"
            )
        ),
    ] = None,
) -> None:
    """Serve /encode and /decode (bearer token required) on codec_url.

    The keys come from SEALED_CODEC_KEYS(_FILE), else from OpenBao, read with
    this process's login. A browser signs in at /login with the token."""
    current = settings()
    token = current.codec_bearer()
    try:
        keyring = codec_keyring(current)
    except (CodecError, OSError, SecretUnavailable) as exc:
        raise fail(f"no codec keys: {exc}", code=2) from exc
    host, port = host_port(current.codec_url)
    origins = [current.temporal_ui_url, *(allow_origin or [])]
    try:
        server = CodecServer(
            keyring,
            token,
            origins,
            host,
            port,
            allowed_namespaces=namespace,
            signin_redirect=signin_redirect or (),
        )
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    serve(server)
