"""Where workers find approvers' public keys (registered by name with `sealed
keys new`); a name without a key cannot approve anything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ApproverKeys(Protocol):
    async def public_keys(self, names: Sequence[str]) -> dict[str, str]:
        """Each named approver's registered public key (`ed25519:<base64>`);
        raises ApproverUnknown for a name that has none, and fails closed when
        the registry cannot answer."""
        ...


class ApproverUnknown(Exception):
    """A policy names an approver with no registered key (not retryable)."""
