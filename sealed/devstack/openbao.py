"""The embedded OpenBao server: raft storage and its file audit device (which
OpenBao accepts only from its config file) in the data directory, initialised
on first start with one key share (a local dev server) and unsealed on every
start. The unseal key and root token stay in the data directory, mode 0600: a
local convenience only. What OpenBao then holds is sealed.identity.bootstrap's."""

from __future__ import annotations

from pathlib import Path

import httpx
import hvac

from sealed.config import ROOT_TOKEN_FILE
from sealed.devstack.binaries import openbao
from sealed.devstack.children import Children
from sealed.devstack.ports import Ports
from sealed.files import write_private

UNSEAL_KEY_FILE = "vault-unseal-key"

_CONFIG = """
storage "raft" {{
  path = "{storage}"
  node_id = "sealed-dev"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable = true
}}
audit "file" "sealed" {{
  options {{
    file_path = "{audit}"
  }}
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
log_level = "warn"
"""


def start_openbao(children: Children, data_dir: Path, ports: Ports) -> tuple[str, str]:
    """Starts it and waits until it is unsealed; returns (address, root token)."""
    storage = data_dir / "openbao"
    storage.mkdir(exist_ok=True, mode=0o700)
    config = data_dir / "openbao.hcl"
    config.write_text(
        _CONFIG.format(
            storage=storage,
            port=ports.vault,
            cluster_port=ports.vault_cluster,
            audit=children.logs / "openbao-audit.log",
        )
    )
    children.spawn("openbao", [str(openbao()), "server", f"-config={config}"])
    addr = f"http://127.0.0.1:{ports.vault}"
    health = f"{addr}/v1/sys/health"
    # 501: not initialised yet, 503: sealed: both mean it is listening.
    children.wait("openbao", lambda: httpx.get(health).status_code in (200, 501, 503))
    root = _unseal(addr, data_dir)
    children.wait("openbao", lambda: httpx.get(health).status_code == 200)
    return addr, root


def _unseal(addr: str, data_dir: Path) -> str:
    client = hvac.Client(url=addr)
    key_file = data_dir / UNSEAL_KEY_FILE
    root_file = data_dir / ROOT_TOKEN_FILE
    if not client.sys.is_initialized():
        keys = client.sys.initialize(secret_shares=1, secret_threshold=1)
        write_private(key_file, keys["keys_base64"][0])
        write_private(root_file, keys["root_token"])
    client.sys.submit_unseal_key(key_file.read_text().strip())
    return root_file.read_text().strip()
