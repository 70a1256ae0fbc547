"""Regenerate tests/histories/: run the demo missions on a fresh embedded stack
and save each workflow history as JSON (`make histories`).

Only regenerate when a workflow change is *meant* to be incompatible and is
guarded by `workflow.patched`; otherwise the committed histories are what
proves the change replays."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from sealed import missions
from sealed.client import connect
from sealed.config import DEFAULT_TOOL_MODULES, Settings
from sealed.demo import DEMO_MISSION, demo_key, result_deciding
from sealed.devstack import DevStack, Ports
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import load_profile
from sealed.models import MissionSpec
from sealed.spec_loader import load_mission
from sealed.workers.worker import build_worker

HISTORIES = Path(__file__).parent / "histories"
TEST_KEYS = Path(__file__).parent / "data" / "codec-test-keys"


def recorded_missions() -> dict[str, tuple[MissionSpec, str | None]]:
    """name -> (spec, abort reason sent once its tool call is in flight)."""
    demo = load_mission(DEMO_MISSION)
    stalling = demo.model_copy(
        update={
            "name": "stalling",
            "profile": "tester",
            "tools": ["test.stall"],
            "model": demo.model.model_copy(
                update={
                    "script": demo.model.script.model_validate(  # type: ignore[union-attr]
                        {
                            "turns": [
                                {
                                    "tool_calls": [
                                        {"name": "test.stall", "arguments": {"seconds": 120}}
                                    ]
                                }
                            ]
                        }
                    )
                }
            ),
        }
    )
    return {
        # Its gullible model obeys ticket 3's planted exfiltration: a directive aborts it.
        "demo_triage_directive_aborted": (demo, None),
        "demo_triage_limit_exceeded": (
            demo.model_copy(update={"limits": demo.limits.model_copy(update={"max_turns": 3})}),
            None,
        ),
        "stalling_aborted": (stalling, "operator abort"),
    }


async def record(settings: Settings) -> None:
    client = await connect(settings)
    # The demo's comment waits for the demo approver (the stack made its key).
    key = demo_key(settings.data_dir)
    async with build_worker(client, settings):
        for name, (spec, abort_reason) in recorded_missions().items():
            handle = await missions.submit(client, settings, spec, f"history-{name}")
            if abort_reason is not None:
                async with asyncio.timeout(30):
                    await missions.wait_for_pending(client, handle.id, "tool:")
                await asyncio.sleep(1.5)  # the tool is running and heartbeats
                await missions.abort(client, handle.id, abort_reason)
            result = await result_deciding(client, handle, key)
            history = await handle.fetch_history()
            path = HISTORIES / f"{name}.json"
            path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
            print(f"{path}: {result.status.value}, {len(history.events)} events")


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        DevStack(Path(tmp), Ports.free(), worker=False) as info,
    ):
        os.environ.update(info.env())
        admin = VaultAdmin(info.vault_addr, (info.data_dir / "vault-root-token").read_text())
        admin.apply_profile(load_profile(Path(__file__).parent / "data/profiles/tester.yaml"))
        # Recorded with the test-only codec key the replay tests hold too.
        settings = info.settings(
            tool_modules=[*DEFAULT_TOOL_MODULES, "tests.slow_tools"], codec_keys_file=TEST_KEYS
        )
        asyncio.run(record(settings))


if __name__ == "__main__":
    main()
