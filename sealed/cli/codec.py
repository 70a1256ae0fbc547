"""`sealed codec-server`: /encode and /decode for the Web UI and the CLI."""

from __future__ import annotations

from typing import Annotated

import typer

from sealed.cli._shared import host_port, settings
from sealed.client import codec_keyring


def codec_server(
    allow_origin: Annotated[
        list[str] | None, typer.Option(help="a Web UI origin besides temporal_ui_url")
    ] = None,
) -> None:
    """Serve /encode and /decode (bearer token required) on codec_url."""
    from sealed.codec.server import CodecServer, serve

    current = settings()
    host, port = host_port(current.codec_url)
    origins = [current.temporal_ui_url, *(allow_origin or [])]
    serve(CodecServer(codec_keyring(current), current.codec_bearer(), origins, host, port))
