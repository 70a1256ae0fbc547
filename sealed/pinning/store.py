"""Where original prompts are kept: the store protocol, its verification, and
the plain file store (tests, a single machine). The OpenBao store, the
production default, is sealed.identity.openbao.stores.VaultPromptStore."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from sealed.models import OriginalPrompt


class PromptTampered(Exception):
    """The stored original is missing or does not match its digest: the turn
    fails closed (not retryable) and the mission fails with this reason."""


def verified(digest: str, stored: bytes | None) -> OriginalPrompt:
    if stored is None:
        raise PromptTampered(f"original prompt {digest[:12]}… is missing from the store")
    if hashlib.sha256(stored).hexdigest() != digest:
        raise PromptTampered(f"original prompt {digest[:12]}… does not match its digest")
    try:
        return OriginalPrompt.model_validate_json(stored)
    except ValidationError as exc:
        raise PromptTampered(f"original prompt {digest[:12]}… is not a prompt") from exc


class PromptStore(Protocol):
    async def put(self, prompt: OriginalPrompt) -> str:
        """Stores it once (idempotent); returns its digest."""
        ...

    async def get(self, digest: str) -> OriginalPrompt:
        """The original, verified against `digest`; PromptTampered otherwise."""
        ...


class FilePromptStore:
    """The plain default (tests, a single machine): one file per digest."""

    def __init__(self, root: Path) -> None:
        self._root = root

    async def put(self, prompt: OriginalPrompt) -> str:
        digest = prompt.digest()
        path = self._root / digest
        if not path.exists():
            self._root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(prompt.canonical())
            tmp.replace(path)
        return digest

    async def get(self, digest: str) -> OriginalPrompt:
        path = self._root / digest
        return verified(digest, path.read_bytes() if path.exists() else None)
