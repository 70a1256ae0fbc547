"""A stack refuses to start on ports another program holds, naming each one,
before it starts anything (raft's cluster listener included)."""

from __future__ import annotations

import socket

import pytest

from sealed.devstack import DevStack, Ports, StackError


def test_a_busy_port_is_named_and_nothing_starts(tmp_path):
    ports = Ports.free()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.vault_cluster))
        holder.listen()
        stack = DevStack(tmp_path, ports)
        with pytest.raises(StackError, match=f"vault_cluster={ports.vault_cluster}"):
            stack.start()
    assert not (tmp_path / "logs").exists()
    assert not (tmp_path / "stack.json").exists()
