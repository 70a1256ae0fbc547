"""Replay safety (Sealed III-C): the mission's original instructions, persisted
once, content-addressed by SHA-256, and re-injected verbatim (hash-verified) on
every model turn and every retry. The workflow keeps only the digest, so no
tool output can rewrite what the model was told to do."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Protocol

import hvac
import hvac.exceptions
from pydantic import ValidationError

from sealed.identity.vault import KV_MOUNT, VaultWorker, read_kv
from sealed.models import OriginalPrompt

PROMPTS_PREFIX = "sealed/prompts"


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


class VaultPromptStore:
    """OpenBao/Vault KV v2 (encrypted at rest, versioned). Written create-only
    (check-and-set 0): the worker's policy allows create and read, not update."""

    def __init__(self, worker: VaultWorker) -> None:
        self._worker = worker

    def _put(self, client: hvac.Client, prompt: OriginalPrompt, digest: str) -> None:
        # Already stored (a retry, or another mission with the same instructions):
        # writing it again is an update, which the policy refuses. `get`
        # verifies whatever is there.
        with contextlib.suppress(hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
            client.secrets.kv.v2.create_or_update_secret(
                path=f"{PROMPTS_PREFIX}/{digest}",
                secret={"prompt": prompt.canonical().decode()},
                cas=0,
                mount_point=KV_MOUNT,
            )

    async def put(self, prompt: OriginalPrompt) -> str:
        digest = prompt.digest()
        await self._worker.acall("original prompt", lambda c: self._put(c, prompt, digest))
        return digest

    async def get(self, digest: str) -> OriginalPrompt:
        data = await self._worker.acall(
            "original prompt", lambda c: read_kv(c, f"{PROMPTS_PREFIX}/{digest}")
        )
        return verified(digest, None if data is None else str(data["prompt"]).encode())


def read_original(client: hvac.Client, digest: str) -> OriginalPrompt:
    """Operator side (`sealed audit prompt`): the verified original."""
    data = read_kv(client, f"{PROMPTS_PREFIX}/{digest}")
    return verified(digest, None if data is None else str(data["prompt"]).encode())
