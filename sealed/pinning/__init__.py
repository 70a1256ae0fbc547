"""Replay safety (Sealed III-C): the mission's original instructions, persisted
once, content-addressed by SHA-256, and re-injected verbatim (hash-verified) on
every model turn and every retry. The workflow keeps only the digest, so no
tool output can rewrite what the model was told to do."""

from sealed.pinning.store import FilePromptStore, PromptStore, PromptTampered, verified
from sealed.pinning.turn import original_for_turn

__all__ = ["FilePromptStore", "PromptStore", "PromptTampered", "original_for_turn", "verified"]
