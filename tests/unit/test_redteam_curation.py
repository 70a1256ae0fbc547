"""Red-team tests of `sealed curate export` over the committed histories:
what broke (and is fixed) and the cheap checks of what held."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from typer.testing import CliRunner

from sealed.audit import AuditLog
from sealed.cli import app
from sealed.codec import decrypt_payload
from sealed.codec.server import CodecServer
from sealed.curation import (
    Export,
    FinishedMission,
    JsonlWriter,
    OutputExists,
    Selection,
    UnreadableMission,
    read_finished,
)
from sealed.models import Message, OriginalPrompt, ToolCall
from sealed.redaction import fingerprint, mission_key
from tests.curation_support import (
    KEYS,
    MASTER,
    MemoryRegistry,
    converter,
    demo_profile,
    finished,
    history,
)
from tests.unit.test_curation_export import TOOLS

TOKEN = "codec-test-token-0123456789"
# A value a mission was issued that holds dots (a password, a KV document's
# field, a `s.`-style token): the shape of a function name once dots are dashes.
DOTTED = "db.Zx81Qm2Lr7Tv.Kp40Wn5Hs3"


def issued(mission: FinishedMission, name: str, value: str) -> FinishedMission:
    known = fingerprint(mission_key(MASTER, mission.mission_id), name, value)
    return mission.model_copy(update={"known": [*mission.known, *known]})


def ending(mission: FinishedMission, message: Message) -> FinishedMission:
    return mission.model_copy(update={"conversation": [*mission.conversation[:-1], message]})


def export(tmp_path: Path, mission: FinishedMission, registry: MemoryRegistry):
    with JsonlWriter(tmp_path / "train.jsonl") as writer:
        run = Export(writer, registry, TOOLS, selection=Selection(), include_flagged=True)
        run.add(mission)
        report = run.finish(AuditLog(tmp_path / "audit.log"), "red")
    text = (tmp_path / "train.jsonl").read_text() if report.path else ""
    return report, text


def registry(mission: FinishedMission, **kwargs: object) -> MemoryRegistry:
    return MemoryRegistry(
        demo_profile(), prompts=[OriginalPrompt.of(mission.mission.spec)], **kwargs
    )


ESCAPED = DOTTED.replace(".", "\\u002e")  # as a model may write it: `db\u002eZx81...`
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _call(**fields: object) -> Message:
    return Message(role="assistant", tool_calls=[ToolCall(**{"id": "c1", "name": "x", **fields})])


@pytest.mark.parametrize(
    ("last", "found"),
    [
        # Dots made dashes: `db-Zx81...` is no form of the value.
        (_call(name=DOTTED), "known:db_password"),
        (_call(name=f"x.{DOTTED}"), "known:db_password"),
        # Escaped by the model, then once (an id) or twice (a key) more by the
        # record: the line check decodes one level.
        (_call(id=ESCAPED), "known:db_password"),
        (_call(arguments={ESCAPED: 1}), "known:db_password"),
        (_call(arguments={"a": [{"b": {ESCAPED: 1}}]}), "known:db_password"),
        (
            Message(role="tool", content="ok", tool_call_id=ESCAPED, name="tickets.list"),
            "known:db_password",
        ),
        (_call(id="\\u0067" + GITHUB[1:]), "github-token"),
    ],
    ids=["name", "dotted-name", "escaped-id", "escaped-key", "nested-key", "answer-id", "pattern"],
)
async def test_a_value_in_a_name_id_or_key_is_checked_as_the_model_wrote_it(
    tmp_path: Path, last: Message, found: str
):
    """Broke: names, ids and argument keys are not redacted (the record would
    not hold together) and reach the history as the model wrote them; the
    export checked them only inside the finished line, where it had mapped
    them (dots to dashes) or escaped them once or twice more, and a value there
    went out in a form (`db-Zx81...`, `db\\\\u002e...`) no check decodes."""
    mission = issued(await finished(), "db_password", DOTTED)
    report, text = export(tmp_path, ending(mission, last), registry(mission))
    assert report.exported == [], text
    assert [d.reason for d in report.dropped] == [f"still matches after redaction: {found}"]
    assert "Zx81Qm2Lr7Tv" not in (tmp_path / "audit.log").read_text()


async def test_held_a_value_escaped_in_an_argument_is_redacted(tmp_path: Path):
    mission = issued(await finished(), "db_password", DOTTED)
    report, text = export(
        tmp_path, ending(mission, _call(arguments={"k": ESCAPED})), registry(mission)
    )
    assert report.exported == [mission.mission_id]
    assert "Zx81Qm2Lr7Tv" not in text and "[REDACTED:db_password]" in text


@pytest.fixture(scope="module")
def codec() -> Iterator[CodecServer]:
    with CodecServer(KEYS, TOKEN) as server:
        yield server


def _via_codec_server(codec: CodecServer, workflow_id: str, payloads, change) -> Payloads:
    """The payloads, decrypted, changed by `change`, and encrypted again by the
    codec server's /encode, as anyone holding its token (or a browser signed in
    to it) can have done."""
    plain = []
    for payload in payloads:
        clear = decrypt_payload(KEYS, payload, workflow_id)
        clear.data = json.dumps(change(json.loads(clear.data))).encode()
        plain.append(clear)
    answer = httpx.post(
        codec.url + "/encode",
        content=json_format.MessageToJson(Payloads(payloads=plain)),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    return json_format.Parse(answer.content, Payloads())


async def test_a_mission_written_through_the_codec_server_is_not_read(codec: CodecServer):
    """Broke: the codec server's /encode encrypts for no workflow in
    particular, and such a payload decodes for every workflow; so a codec-token
    holder could start a MissionWorkflow at the frontend with an input of their
    own (here: claiming another profile), answer its tasks as a worker, and have
    the export take it for a Sealed mission. Every payload a worker or client
    writes is bound to its workflow: one that is not is refused."""
    recorded = history("v4-demo_triage_completed")
    first = HistoryEvent()
    first.CopyFrom(recorded.events[0])
    started = first.workflow_execution_started_event_attributes

    def claim(mission: dict) -> dict:
        mission["spec"]["profile"] = "claimed-agent"
        return mission

    forged = _via_codec_server(codec, recorded.workflow_id, started.input.payloads, claim)
    started.input.CopyFrom(forged)
    lying = WorkflowHistory(recorded.workflow_id, [first, *recorded.events[1:]])
    with pytest.raises(UnreadableMission, match="not encrypted for this mission"):
        await read_finished(lying, converter(recorded.workflow_id))

    # A forged model turn's answer, in an otherwise genuine history, likewise.
    events = list(recorded.events)
    for i, event in enumerate(events):
        if event.HasField("activity_task_completed_event_attributes"):
            done = HistoryEvent()
            done.CopyFrom(event)
            result = done.activity_task_completed_event_attributes.result
            result.CopyFrom(
                _via_codec_server(codec, recorded.workflow_id, result.payloads, lambda v: v)
            )
            events[i] = done
            break
    with pytest.raises(UnreadableMission, match="not encrypted for this mission"):
        await read_finished(
            WorkflowHistory(recorded.workflow_id, events), converter(recorded.workflow_id)
        )


def test_a_symlink_at_out_is_refused_up_front_and_never_written_through(tmp_path: Path):
    """Broke (the audit only): a dangling symlink at --out passed the checks
    (`exists()` follows it), the export's `curation.exported` event, naming
    the file and its SHA-256, went on record, and only then did the commit
    find the name taken: an export on record that never landed. Never written
    through, though (held): the file is linked or renamed into place."""
    victim = tmp_path / "victim"
    out = tmp_path / "train.jsonl"
    out.symlink_to(victim)  # dangling: exists() says no
    with pytest.raises(OutputExists):
        JsonlWriter(out)
    result = CliRunner().invoke(app, ["curate", "export", "--out", str(out)])
    assert result.exit_code == 2 and "exists" in result.output
    assert not victim.exists() and out.is_symlink()
    victim.write_text("theirs\n")
    with JsonlWriter(out, replace=True) as writer:
        writer.write("{}")
        writer.commit()
    assert victim.read_text() == "theirs\n"
    assert not out.is_symlink() and out.read_text() == "{}\n"
    assert out.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["train.jsonl", "victim"]
