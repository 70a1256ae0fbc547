"""What the curation tests share: a committed mission history read as the
export reads it, and the operator's registry held in memory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter, WorkflowSerializationContext

from sealed.codec import KeyRing, data_converter
from sealed.curation import FinishedMission, read_finished
from sealed.identity.profiles import Profile, load_profile
from sealed.models import OriginalPrompt
from sealed.pinning import PromptTampered

ROOT = Path(__file__).parents[1]
HISTORIES = ROOT / "tests" / "histories"
KEYS = KeyRing.from_file(ROOT / "tests" / "data" / "codec-test-keys")
DEMO_PROFILE = ROOT / "examples" / "profiles" / "support-agent.yaml"
MASTER = b"m" * 32


def history(stem: str) -> WorkflowHistory:
    """Under the workflow id it was recorded with (as tests/unit/test_replay.py)."""
    name = re.sub(r"^v\d+-", "", stem)
    return WorkflowHistory.from_json(f"history-{name}", (HISTORIES / f"{stem}.json").read_text())


def converter(workflow_id: str) -> DataConverter:
    context = WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    return data_converter(KEYS).with_context(context)


async def finished(stem: str = "v4-demo_triage_completed") -> FinishedMission:
    recorded = history(stem)
    return await read_finished(recorded, converter(recorded.workflow_id))


def demo_profile(**changes: object) -> Profile:
    """The demo's profile (as shipped), with `changes` validated as a file's would be."""
    return Profile.model_validate({**load_profile(DEMO_PROFILE).model_dump(), **changes})


class MemoryRegistry:
    """sealed.curation.Registry in memory: profiles, revoked names, prompts."""

    def __init__(
        self,
        *profiles: Profile,
        prompts: Sequence[OriginalPrompt] = (),
        revoked: set[str] | None = None,
    ) -> None:
        self.profiles = {p.name: p for p in profiles}
        self.prompts = {p.digest(): p for p in prompts}
        self.revoked_names = revoked or set()
        self.key_reads = 0

    def profile(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def revoked(self, profile: str) -> bool:
        return profile in self.revoked_names

    def original(self, digest: str) -> OriginalPrompt:
        try:
            return self.prompts[digest]
        except KeyError:
            raise PromptTampered(
                f"original prompt {digest[:12]}… is missing from the store"
            ) from None

    def redaction_key(self) -> bytes:
        self.key_reads += 1
        return MASTER
