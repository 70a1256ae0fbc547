"""`sealed curate export` on the real stack, as an operator runs it: the
demo's missions (its comment approved, its gullible model stopped by a
directive) and a mission whose tool leaks a real secret in every form
become a training file in which the containment sweep finds no canary and
no value the missions were issued; a record holding a secret-shaped string
where redaction cannot reach is dropped and audited; flagged missions stay
out unless asked for; a profile that is not exportable is refused; and the
export's audit event names its missions and the file's SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditLog, AuditRecord
from sealed.config import Settings
from sealed.curation import Selection, matching
from sealed.demo import DEMO_MISSION, result_deciding
from sealed.devstack import StackInfo
from sealed.identity.backend import SecretSpec
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile, ToolGrant
from sealed.models import MissionSpec, MissionStatus
from sealed.spec_loader import load_mission
from tests.containment import decoded_history, normalise, shown_through_codec, sweep
from tests.integration.conftest import run_cli, tickets_token

LEAKY = Profile(
    name="curation-leak",
    tools={"test.leak": ToolGrant(secrets=["canary", "document"])},
    secrets={
        name: SecretSpec(backend="vault-kv", ref=f"curation/{name}")
        for name in ("canary", "document")
    },
    exportable=True,
)
# A profile whose model names a call with a GitHub token's shape: the
# worker's screen masks the name before history keeps it, and a masked name
# fits no function name of the format, so the export drops the record.
PLANTING = Profile(name="curation-plant", exportable=True)
NAME_REDACTED = "not in the fine-tuning format: messages.2.tool_calls.0.function.name"
GITHUB = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


def scripted(name: str, profile: Profile, tools: list[str], turns: list[dict[str, object]]):
    return MissionSpec.model_validate(
        {
            "name": name,
            "profile": profile.name,
            "goal": "Use the tools as scripted.",
            "tools": tools,
            "model": {"provider": "scripted", "script": {"turns": turns}},
        }
    )


LEAK_MISSION = scripted(
    "curation-leak",
    LEAKY,
    ["test.leak"],
    [
        {"say": "Leaking.", "tool_calls": [{"name": "test.leak", "arguments": {"forms": []}}]},
        {"final": "Done: the tool said what it said."},
    ],
)
PLANT_MISSION = scripted(
    "curation-plant",
    PLANTING,
    [],
    [{"say": "Calling.", "tool_calls": [{"name": GITHUB}]}, {"final": "Done."}],
)


@dataclass
class Ran:
    since: str
    demo: list[str]
    leak: str
    plant: str
    secrets: dict[str, str]


async def listed(client: Client, since: datetime, ids: list[str]) -> None:
    """Until the index lists every one of `ids` (it is eventually consistent)."""
    selection = Selection(statuses=[s for s in MissionStatus if s.finished], since=since)
    async with asyncio.timeout(20):
        while True:
            if set(ids) <= {m.mission_id for m in await matching(client, selection)}:
                return
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def ran(
    client: Client,
    worker,
    stack: StackInfo,
    stack_settings: Settings,
    admin_for_tests: VaultAdmin,
    demo_approver_key: Ed25519PrivateKey,
) -> Ran:
    """Two demo missions and the two scripted ones, finished."""
    issued = {
        "canary": f"Kq{secrets.token_hex(4)}/Zr&{secrets.token_hex(4)}<Wm+{secrets.token_hex(3)}",
        "document": f"dc{secrets.token_hex(8)}",
    }
    for name, value in issued.items():
        admin_for_tests.put_secret(f"curation/{name}", value)
    admin_for_tests.apply_profile(LEAKY)
    admin_for_tests.apply_profile(PLANTING)
    start = datetime.now(UTC) - timedelta(seconds=1)
    demo = []
    for _ in range(2):
        handle = await missions.submit(client, stack_settings, load_mission(DEMO_MISSION))
        result = await result_deciding(client, handle, demo_approver_key)
        assert result.status == MissionStatus.ABORTED, result.reason
        demo.append(handle.id)
    ids = {}
    for spec in (LEAK_MISSION, PLANT_MISSION):
        handle = await missions.submit(client, stack_settings, spec)
        result = await handle.result()
        assert result.status == MissionStatus.COMPLETED, result.reason
        ids[spec.name] = handle.id
    await listed(client, start, [*demo, *ids.values()])
    return Ran(
        since=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        demo=demo,
        leak=ids["curation-leak"],
        plant=ids["curation-plant"],
        secrets={**issued, "tickets_token": tickets_token(stack)},
    )


def curation_events(settings: Settings, after: int) -> list[AuditRecord]:
    events = AuditLog(settings.audit_path()).events()
    return [e for e in events if e.seq > after and e.kind.startswith("curation.")]


def last_seq(settings: Settings) -> int:
    events = AuditLog(settings.audit_path()).events()
    return events[-1].seq if events else 0


async def test_the_demos_missions_export_with_no_canary_and_the_export_is_audited(
    ran: Ran, stack_settings: Settings, stack_env: dict[str, str], tmp_path: Path
):
    out = tmp_path / "train.jsonl"
    before = last_seq(stack_settings)
    code, stdout, stderr = await run_cli(
        "curate",
        "export",
        "--out",
        str(out),
        "--since",
        ran.since,
        "--status",
        "completed",
        "--status",
        "aborted",
        "--include-flagged",
        env=stack_env,
    )
    assert code == 0, stdout + stderr
    data = out.read_bytes()
    text = data.decode()
    records = [json.loads(line) for line in text.splitlines()]
    mine = [*ran.demo, ran.leak]
    assert len(records) >= len(mine)
    for record in records:
        assert record["messages"][0]["role"] == "system"
        assert record["messages"][-1]["role"] == "assistant"
    # The leaks happened, and reached the file: their tags did, redacted.
    flat = normalise(text)
    assert "[leak:output:canary:raw] [REDACTED:canary]" in flat
    assert "[leak:output:canary:json-u-all]" in flat
    assert "Triage: identity team" in flat  # the demo's approved comment
    # The done criterion: the containment sweep finds nothing in the file.
    assert sweep({"export": text}, ran.secrets) == []

    events = curation_events(stack_settings, before)
    [exported] = [e for e in events if e.kind == "curation.exported"]
    assert exported.details["sha256"] == hashlib.sha256(data).hexdigest()
    assert exported.details["file"] == str(out.resolve())
    named = str(exported.details["missions"]).split(",")
    assert set(mine) <= set(named) and ran.plant not in named
    assert exported.details["records"] == len(records)
    assert f"sha256 {exported.details['sha256']}" in stdout
    # The planted mission was dropped, and said why; the tester profile's
    # missions in the window (other tests') were not exportable.
    [planted] = [e for e in events if e.mission_id == ran.plant]
    assert planted.kind == "curation.dropped"
    assert planted.reason.startswith(NAME_REDACTED)
    assert f"dropped {ran.plant}: {NAME_REDACTED}" in stderr
    audit = stack_settings.audit_path().read_text()
    assert sweep({"audit log": audit}, {**ran.secrets, "planted": GITHUB}) == []


async def test_a_call_named_with_a_secret_is_masked_then_dropped_and_audited(
    ran: Ran,
    stack: StackInfo,
    stack_settings: Settings,
    stack_env: dict[str, str],
    tmp_path: Path,
):
    out = tmp_path / "train.jsonl"
    before = last_seq(stack_settings)
    args = ["--profile", PLANTING.name, "--since", ran.since, "--out", str(out)]
    code, stdout, stderr = await run_cli("curate", "export", *args, env=stack_env)
    assert code == 0, stdout + stderr
    assert "nothing exported (1 dropped): no file written" in stdout
    assert os.listdir(tmp_path) == []  # not even a partial file
    [event] = curation_events(stack_settings, before)
    assert (event.kind, event.mission_id, event.profile) == (
        "curation.dropped",
        ran.plant,
        PLANTING.name,
    )
    assert event.reason.startswith(NAME_REDACTED)
    assert GITHUB not in stdout + stderr
    # The worker's screen redacted the name the model chose before the
    # workflow kept it: the export refuses the mask, never the secret.
    history = decoded_history(shown_through_codec(stack, stack_settings, ran.plant))
    # (The script, the mission's own input, names it: what the model turns
    # returned, which the workflow keeps and acts on, do not.)
    results = json.dumps(
        [
            event
            for event in json.loads(history)["events"]
            if event["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_COMPLETED"
        ]
    )
    assert "[REDACTED:github-token]" in results and GITHUB not in results


async def test_flagged_missions_stay_out_unless_asked_for(
    ran: Ran, stack_settings: Settings, stack_env: dict[str, str], tmp_path: Path
):
    out = tmp_path / "train.jsonl"
    before = last_seq(stack_settings)
    args = ["--profile", "support-agent", "--status", "aborted", "--since", ran.since]
    code, stdout, stderr = await run_cli(
        "curate", "export", *args, "--out", str(out), env=stack_env
    )
    assert code == 0, stdout + stderr
    assert not out.exists()
    dropped = {e.mission_id: e.reason for e in curation_events(stack_settings, before)}
    for mission_id in ran.demo:
        assert (dropped[mission_id] or "").startswith("injection flags (")

    code, stdout, stderr = await run_cli(
        "curate", "export", *args, "--include-flagged", "--out", str(out), env=stack_env
    )
    assert code == 0, stdout + stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(exported) >= len(ran.demo)
    # Flagged output goes out as the model read it: fenced as untrusted.
    assert any("[UNTRUSTED TOOL OUTPUT" in m.get("content", "") for m in exported[0]["messages"])


async def test_a_profile_that_is_not_exportable_is_refused(
    ran: Ran, stack_settings: Settings, stack_env: dict[str, str], tmp_path: Path
):
    out = tmp_path / "train.jsonl"
    before = last_seq(stack_settings)
    code, _, stderr = await run_cli(
        "curate", "export", "--profile", "tester", "--out", str(out), env=stack_env
    )
    assert code == 3
    assert "profile 'tester' is not exportable: set `exportable: true`" in stderr
    assert "`sealed profiles apply` it" in stderr
    assert not out.exists()
    assert curation_events(stack_settings, before) == []

    code, _, stderr = await run_cli(
        "curate", "export", "--profile", "nobody", "--out", str(out), env=stack_env
    )
    assert code == 3 and "profile 'nobody' is not registered" in stderr


async def test_no_match_writes_nothing_and_says_so(
    ran: Ran, stack_env: dict[str, str], tmp_path: Path
):
    out = tmp_path / "train.jsonl"
    since = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    code, stdout, stderr = await run_cli(
        "curate", "export", "--since", since, "--out", str(out), env=stack_env
    )
    assert code == 0, stdout + stderr
    assert "no missions matched (profile any, status completed, finished since" in stdout
    assert not out.exists()
