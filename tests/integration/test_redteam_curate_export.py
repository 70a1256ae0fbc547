"""Red team, on the real stack: `sealed curate export` against a workflow id
that anyone at the Temporal frontend can start again once its mission ended."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client

from sealed import missions
from sealed.config import Settings
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile
from sealed.models import MissionStatus
from tests.integration.conftest import run_cli
from tests.integration.test_curate_export import listed, scripted

RERUN = Profile(name="redteam-rerun", exportable=True)


async def test_a_later_workflow_under_the_mission_id_is_not_what_is_exported(
    client: Client,
    worker,
    stack_settings: Settings,
    stack_env: dict[str, str],
    admin_for_tests: VaultAdmin,
    tmp_path: Path,
):
    """Broke: the export listed the mission's run but read the id's latest
    run; a workflow anyone started under the id after the mission ended took
    its place, and the mission was dropped as "a Squatter, not a mission" (a
    type name the squatter chose, in the audit record and on the terminal)."""
    admin_for_tests.apply_profile(RERUN)
    since = datetime.now(UTC) - timedelta(seconds=1)
    handle = await missions.submit(
        client, stack_settings, scripted("rerun", RERUN, [], [{"final": "Done, once."}])
    )
    result = await handle.result()
    assert result.status == MissionStatus.COMPLETED, result.reason
    await listed(client, since, [handle.id])
    squatter = await client.start_workflow(
        "Squatter", id=handle.id, task_queue=f"nobody-{uuid.uuid4().hex[:8]}"
    )
    try:
        out = tmp_path / "train.jsonl"
        args = ["--profile", RERUN.name, "--since", since.strftime("%Y-%m-%dT%H:%M:%SZ")]
        code, stdout, stderr = await run_cli(
            "curate", "export", *args, "--out", str(out), env=stack_env
        )
        assert code == 0, stdout + stderr
        assert "exported 1 missions" in stdout, stdout + stderr
        [record] = [json.loads(line) for line in out.read_text().splitlines()]
        assert record["messages"][-1] == {"role": "assistant", "content": "Done, once."}
    finally:
        await squatter.terminate("red team: done")
