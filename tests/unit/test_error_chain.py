"""An error leaving an activity carries nothing of the original (found by the
containment sweep): `raise redacted from None` inside the handler still keeps
the original exception, its unredacted message and the tool's frames holding
the secret, as `__context__`, for any error reporter that walks the chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from sealed.activities.mission import MissionActivities
from sealed.audit import AuditLog
from sealed.identity.broker import CredentialBroker
from sealed.identity.profiles import Profile
from sealed.models import ToolCall, ToolCallInput
from sealed.pinning import FilePromptStore
from sealed.redaction.screen import Screens
from sealed.testing import DictBackend, StaticProfiles, StaticRedactionKey
from sealed.tools.registry import REGISTRY, ToolContext, tool

SECRET = "s3cr3t-chain-value"


class NoArgs(BaseModel):
    pass


@tool(name="test.raises_with_secret", secrets=["api_key"])
async def raises_with_secret(ctx: ToolContext, args: NoArgs) -> str:
    """Fails quoting its secret, which a local of this frame holds too."""
    held = ctx.secrets["api_key"].reveal()
    raise RuntimeError(f"upstream said no to {held}")


def chain(exc: BaseException) -> list[BaseException]:
    found, seen = [], set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        found.append(e)
        todo += [e.__context__, e.__cause__]
    return found


async def test_a_failed_tool_call_leaves_no_link_to_the_original(tmp_path: Path):
    audit = AuditLog(tmp_path / "audit.log")
    profile = Profile.model_validate(
        {
            "name": "chain",
            "tools": {"test.raises_with_secret": {"secrets": ["api_key"]}},
            "secrets": {"api_key": {"backend": "dict", "ref": "api_key"}},
        }
    )
    activities = MissionActivities(
        profiles=StaticProfiles(profile),
        credentials=CredentialBroker({"dict": DictBackend({"api_key": SECRET})}, audit),
        screens=Screens(StaticRedactionKey(b"k" * 32), audit),
        prompts=FilePromptStore(tmp_path / "prompts"),
        audit=audit,
        tools={"test.raises_with_secret": REGISTRY["test.raises_with_secret"]},
    )
    call = ToolCall(id="call-1-0", name="test.raises_with_secret", arguments={})
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            activities.run_tool, ToolCallInput(mission_id="m-1", profile="chain", call=call)
        )
    assert raised.value.message == "RuntimeError: upstream said no to [REDACTED:api_key]"
    assert chain(raised.value) == [raised.value]  # nothing hangs off it
    frames = []
    traceback = raised.value.__traceback__
    while traceback is not None:
        frames.append(traceback.tb_frame)
        traceback = traceback.tb_next
    assert not any(SECRET in repr(f.f_locals) for f in frames)
