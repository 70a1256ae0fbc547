"""What a running stack records in its data directory (`stack.json`): enough
for any process to use it, and for a second `sealed dev` to find it instead of
clashing on ports."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sealed.approvals.inbox import REQUESTS_PATH
from sealed.config import WEBHOOK_SECRET_FILE, Settings
from sealed.devstack.ports import port_open
from sealed.files import private_random

STATE_FILE = "stack.json"


class StackInfo(BaseModel):
    data_dir: Path
    owner_pid: int
    temporal_address: str
    ui_url: str
    vault_addr: str
    tickets_url: str
    codec_url: str
    inbox_url: str
    pids: dict[str, int]

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointed at this stack."""
        return Settings.model_validate(
            {
                "data_dir": self.data_dir,
                "temporal_address": self.temporal_address,
                "temporal_ui_url": self.ui_url,
                "vault_addr": self.vault_addr,
                "tickets_url": self.tickets_url,
                "codec_url": self.codec_url,
                **self._approval_inbox(),
                **overrides,
            }
        )

    def env(self) -> dict[str, str]:
        """The settings a client needs to use this stack."""
        return {
            "SEALED_DATA_DIR": str(self.data_dir),
            "SEALED_TEMPORAL_ADDRESS": self.temporal_address,
            "SEALED_TEMPORAL_UI_URL": self.ui_url,
            "SEALED_VAULT_ADDR": self.vault_addr,
            "SEALED_TICKETS_URL": self.tickets_url,
            "SEALED_CODEC_URL": self.codec_url,
            "SEALED_APPROVAL_INBOX_URL": self.inbox_url,
        }

    def worker_env(self) -> dict[str, str]:
        """... and a worker: where it notifies approvers, with the webhook's
        secret (given to the workers alone, not to every child of the stack)."""
        inbox = self._approval_inbox()
        return {
            **self.env(),
            "SEALED_APPROVAL_WEBHOOKS": json.dumps(inbox["approval_webhooks"]),
            "SEALED_APPROVAL_WEBHOOK_SECRET": inbox["approval_webhook_secret"],
        }

    def _approval_inbox(self) -> dict[str, Any]:
        """Workers notify the stack's approval inbox, signed with its secret."""
        return {
            "approval_inbox_url": self.inbox_url,
            "approval_webhooks": [self.inbox_url + REQUESTS_PATH],
            "approval_webhook_secret": private_random(self.data_dir / WEBHOOK_SECRET_FILE),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_running(data_dir: Path) -> StackInfo | None:
    try:
        info = StackInfo.model_validate_json((data_dir / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    temporal_port = int(info.temporal_address.rsplit(":", 1)[1])
    if _alive(info.owner_pid) and port_open(temporal_port):
        return info
    return None
