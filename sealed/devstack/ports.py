"""The loopback ports of an embedded stack: the defaults, or free ones for a
stack that must not clash with a running `sealed dev`."""

from __future__ import annotations

import socket

from pydantic import BaseModel


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Ports(BaseModel):
    temporal: int = 7233
    ui: int = 8233
    vault: int = 8200
    # Raft's own listener: its own field so a free-port stack never guesses it.
    vault_cluster: int = 8201
    tickets: int = 8765
    codec: int = 8234
    inbox: int = 8766
    # The dev server's own Web UI, which only the stack's UI gateway (on `ui`)
    # opens: 0 for any free port, chosen when the stack starts.
    ui_backend: int = 0

    @classmethod
    def free(cls) -> Ports:
        """Ports nobody uses, for a stack beside a running `sealed dev`."""
        temporal, ui, vault, vault_cluster, tickets, codec, inbox, ui_backend = free_ports(8)
        return cls(
            temporal=temporal,
            ui=ui,
            vault=vault,
            vault_cluster=vault_cluster,
            tickets=tickets,
            codec=codec,
            inbox=inbox,
            ui_backend=ui_backend,
        )
