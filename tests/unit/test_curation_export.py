"""One export over recorded missions (the committed histories), with the
operator's registry in memory and a real audit log: what is written, what is
dropped and why, and what the audit log says of both."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from sealed.audit import AuditLog
from sealed.config import DEFAULT_TOOL_MODULES
from sealed.curation import Export, FinishedMission, JsonlWriter, OutputExists, Selection
from sealed.models import Message, OriginalPrompt, ToolCall
from sealed.redaction import fingerprint, mission_key
from sealed.tools import load_tool_modules
from tests.curation_support import MASTER, MemoryRegistry, demo_profile, finished

TOOLS = load_tool_modules(DEFAULT_TOOL_MODULES)
PLANTED = "pl-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def registry(mission: FinishedMission, **profile_changes: object) -> MemoryRegistry:
    return MemoryRegistry(
        demo_profile(**profile_changes), prompts=[OriginalPrompt.of(mission.mission.spec)]
    )


def run(
    tmp_path: Path,
    missions: list[FinishedMission],
    registry: MemoryRegistry,
    *,
    selection: Selection | None = None,
    include_flagged: bool = True,
):
    audit = AuditLog(tmp_path / "audit.log")
    with JsonlWriter(tmp_path / "train.jsonl") as writer:
        export = Export(
            writer,
            registry,
            TOOLS,
            selection=selection or Selection(),
            include_flagged=include_flagged,
        )
        for mission in missions:
            export.add(mission)
        report = export.finish(audit, "alice")
    return report, audit.events()


def planted(mission: FinishedMission) -> FinishedMission:
    """The mission, as if it had been issued PLANTED too."""
    known = fingerprint(mission_key(MASTER, mission.mission_id), "planted", PLANTED)
    return mission.model_copy(update={"known": [*mission.known, *known]})


def with_last(mission: FinishedMission, message: Message) -> FinishedMission:
    return mission.model_copy(update={"conversation": [*mission.conversation[:-1], message]})


async def test_an_exportable_mission_is_written_and_the_export_audited(tmp_path: Path):
    mission = await finished()
    report, events = run(tmp_path, [mission], registry(mission))

    out = tmp_path / "train.jsonl"
    data = out.read_bytes()
    assert report.path == out and report.exported == [mission.mission_id]
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    [line] = data.decode().splitlines()
    record = json.loads(line)
    assert record["messages"][0]["role"] == "system"
    assert record["messages"][-1] == {"role": "assistant", "content": mission.result.answer}
    assert [t["function"]["name"] for t in record["tools"]] == [
        "tickets-list",
        "tickets-read",
        "tickets-comment",
    ]
    assert out.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["audit.log", "train.jsonl"]  # no temporary left
    [event] = events
    assert (event.kind, event.actor) == ("curation.exported", "alice")
    assert event.details["missions"] == mission.mission_id
    assert event.details["sha256"] == report.sha256
    assert event.details["records"] == 1
    assert event.details["file"] == str(out.resolve())


async def test_flagged_missions_are_dropped_unless_asked_for(tmp_path: Path):
    mission = await finished()
    report, events = run(tmp_path, [mission], registry(mission), include_flagged=False)

    assert report.path is None and not (tmp_path / "train.jsonl").exists()
    [dropped] = report.dropped
    assert dropped.reason.startswith("injection flags (")
    assert "--include-flagged" in dropped.reason
    [event] = events
    assert (event.kind, event.mission_id, event.profile) == (
        "curation.dropped",
        mission.mission_id,
        "support-agent",
    )
    assert event.reason == dropped.reason


async def test_a_known_value_in_a_text_is_redacted_again(tmp_path: Path):
    mission = planted(await finished())
    leaky = with_last(mission, Message(role="assistant", content=f"done, token {PLANTED}"))
    report, _ = run(tmp_path, [leaky], registry(mission))

    text = (tmp_path / "train.jsonl").read_text()
    assert PLANTED not in text
    assert "done, token [REDACTED:planted]" in text
    assert report.redactions == 1


async def test_a_record_that_still_holds_a_value_is_dropped_and_audited(tmp_path: Path):
    """A name the model chose is not redacted (the record would not hold
    together): a value there drops the whole record, and only its name is said."""
    mission = planted(await finished())
    call = ToolCall(id="c", name=f"x_{PLANTED}", arguments={})
    leaky = with_last(mission, Message(role="assistant", tool_calls=[call]))
    report, events = run(tmp_path, [leaky], registry(mission))

    assert report.path is None and report.exported == []
    [dropped] = report.dropped
    assert dropped.reason == "still matches after redaction: known:planted"
    assert [e.kind for e in events] == ["curation.dropped"]
    assert PLANTED not in (tmp_path / "audit.log").read_text()
    assert not (tmp_path / "train.jsonl").exists()


async def test_only_the_dropped_record_is_missing(tmp_path: Path):
    good = await finished()
    bad = planted(
        good.model_copy(update={"mission": good.mission.model_copy(update={"mission_id": "m-2"})})
    )
    bad = with_last(bad, Message(role="assistant", tool_calls=[ToolCall(id=PLANTED, name="x")]))
    report, events = run(tmp_path, [good, bad], registry(good))

    assert report.exported == [good.mission_id]
    assert [d.mission_id for d in report.dropped] == ["m-2"]
    assert [e.kind for e in events] == ["curation.dropped", "curation.exported"]
    assert events[1].details["dropped"] == 1
    assert len((tmp_path / "train.jsonl").read_text().splitlines()) == 1


NOT_EXPORTABLE = (
    "profile 'support-agent' is not exportable: set `exportable: true` (or "
    "`exportable: {tools: [...]}`) in its file and `sealed profiles apply` it"
)


@pytest.mark.parametrize(
    ("profiles", "revoked", "reason"),
    [
        ([], set(), "profile 'support-agent' is not registered (`sealed profiles apply` it)"),
        ([demo_profile()], {"support-agent"}, "profile 'support-agent' is revoked"),
        ([demo_profile(exportable=False)], set(), NOT_EXPORTABLE),
    ],
    ids=["unregistered", "revoked", "not-exportable"],
)
async def test_the_profile_as_registered_decides(tmp_path: Path, profiles, revoked, reason):
    mission = await finished()
    prompts = [OriginalPrompt.of(mission.mission.spec)]
    held = MemoryRegistry(*profiles, prompts=prompts, revoked=revoked)
    report, events = run(tmp_path, [mission], held)
    assert [d.reason for d in report.dropped] == [reason]
    assert [(e.kind, e.reason) for e in events] == [("curation.dropped", reason)]
    assert held.key_reads == 0  # nothing of it was read


async def test_a_mission_that_read_a_tool_the_profile_does_not_export_is_dropped(tmp_path: Path):
    mission = await finished()
    report, _ = run(tmp_path, [mission], registry(mission, exportable={"tools": ["tickets.list"]}))
    [dropped] = report.dropped
    assert dropped.reason == (
        "it read tickets.comment, tickets.read, whose output the profile does not export"
    )


async def test_a_reason_never_names_what_the_model_made_up(tmp_path: Path):
    """A call to a tool the mission did not offer is refused by the workflow,
    and its refusal is a tool message under the name the model chose."""
    mission = await finished()
    made_up = Message(role="tool", content="refused", tool_call_id="c", name=f"x_{GITHUB}")
    odd = mission.model_copy(update={"conversation": [*mission.conversation[:-1], made_up]})
    only_list = registry(mission, exportable={"tools": ["tickets.list"]})
    report, _ = run(tmp_path, [odd], only_list)
    assert report.dropped[0].reason == (
        "it read tickets.comment, tickets.read, 1 tool(s) not offered to it, "
        "whose output the profile does not export"
    )


async def test_a_secret_shaped_reason_is_masked(tmp_path: Path):
    with JsonlWriter(tmp_path / "train.jsonl") as writer:
        export = Export(writer, MemoryRegistry(), TOOLS, selection=Selection())
        export.drop("m-1", f"the store said {GITHUB}")
    assert export.dropped[0].reason == "the store said [REDACTED:github-token]"


async def test_what_cannot_be_checked_is_dropped(tmp_path: Path):
    mission = await finished()
    no_prompt = MemoryRegistry(demo_profile())
    report, _ = run(tmp_path, [mission], no_prompt)
    assert "is missing from the store" in report.dropped[0].reason

    odd = mission.mission.spec.model_copy(update={"tools": [*mission.mission.spec.tools, "x.y"]})
    unknown_tool = mission.model_copy(
        update={"mission": mission.mission.model_copy(update={"spec": odd})}
    )
    report, _ = run(tmp_path, [unknown_tool], registry(unknown_tool))
    assert report.dropped[0].reason == "tools unknown here (SEALED_TOOL_MODULES): x.y"


async def test_the_history_has_the_last_word_on_status_and_profile(tmp_path: Path):
    mission = await finished()
    report, _ = run(
        tmp_path, [mission], registry(mission), selection=Selection(statuses=["aborted"])
    )
    assert report.dropped[0].reason == "it ended completed"
    report, _ = run(tmp_path, [mission], registry(mission), selection=Selection(profile="other"))
    assert report.dropped[0].reason == "it ran under profile 'support-agent'"


async def test_a_mission_whose_model_never_answered_is_dropped(tmp_path: Path):
    mission = await finished()
    silent = mission.model_copy(update={"conversation": []})
    report, _ = run(tmp_path, [silent], registry(mission))
    assert report.dropped[0].reason == "its model never answered"


# --- the file ----------------------------------------------------------------------


def test_an_existing_file_is_kept_unless_replaced(tmp_path: Path):
    out = tmp_path / "train.jsonl"
    out.write_text("mine\n")
    with pytest.raises(OutputExists):
        JsonlWriter(out)
    with JsonlWriter(out, replace=True) as writer:
        writer.write('{"a": 1}')
        writer.commit()
    assert out.read_text() == '{"a": 1}\n'


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path):
    out = tmp_path / "train.jsonl"
    with JsonlWriter(out) as writer:
        writer.write('{"a": 1}')
        out.write_text("theirs\n")
        with pytest.raises(OutputExists, match="appeared while exporting"):
            writer.commit()
    assert out.read_text() == "theirs\n"
    assert os.listdir(tmp_path) == ["train.jsonl"]


def test_a_failed_export_leaves_nothing(tmp_path: Path):
    out = tmp_path / "train.jsonl"
    with pytest.raises(RuntimeError), JsonlWriter(out) as writer:
        writer.write('{"a": 1}')
        raise RuntimeError("crash")
    assert os.listdir(tmp_path) == []
