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
    """(digest, the verified original). The first turn carries `original`
    (persisted here, and its digest written to the audit log, so the log alone
    names what the mission was told), every turn the digest the workflow
    computed itself."""
    try:
        if original is not None:
            stored = await store.put(original)
            if digest is not None and stored != digest:
                raise PromptTampered(
                    f"the original prompt sent hashes to {stored[:12]}…, not to the "
                    f"mission's {digest[:12]}…"
                )
            digest = stored
            pinned = AuditEvent(
                kind="prompt.pinned", mission_id=mission_id, details={"digest": digest}
            )
            await _record(audit, pinned)
        elif digest is None:
            raise PromptTampered("the turn carries neither the original prompt nor its digest")
        return digest, await store.get(digest)
    except PromptTampered as exc:
        event = AuditEvent(
            kind="prompt.tampered", mission_id=mission_id, outcome="refused", reason=str(exc)
        )
        await _record(audit, event)
        raise


async def _record(audit: AuditLog, event: AuditEvent) -> None:
    await asyncio.to_thread(audit.record, event)
