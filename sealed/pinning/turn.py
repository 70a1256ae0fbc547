"""The original prompt as one model turn gets it: persisted on the first turn,
then loaded and verified on every turn and every retry, so what the model is
told to do never comes from the conversation. Missing or altered: the turn
fails closed, and a `prompt.tampered` audit event says so."""

from __future__ import annotations

import asyncio

from sealed.audit import AuditEvent, AuditLog
from sealed.models import OriginalPrompt
from sealed.pinning.store import PromptStore, PromptTampered


async def original_for_turn(
    store: PromptStore,
    audit: AuditLog,
    mission_id: str,
    *,
    original: OriginalPrompt | None,
    digest: str | None,
) -> tuple[str, OriginalPrompt]:
    """(digest, the verified original). The first turn carries `original`,
    every later one only its `digest`."""
    if original is not None:
        digest = await store.put(original)
    elif digest is None:
        raise PromptTampered("the turn carries neither the original prompt nor its digest")
    try:
        return digest, await store.get(digest)
    except PromptTampered as exc:
        event = AuditEvent(
            kind="prompt.tampered", mission_id=mission_id, outcome="refused", reason=str(exc)
        )
        await asyncio.to_thread(audit.record, event)
        raise
