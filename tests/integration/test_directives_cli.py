"""`sealed directives` and the checks where policies are submitted, against the
session stack: `profiles apply` and `submit` refuse policies that cannot be
used (nothing applied, nothing started), `directives show` says what a
registered profile's missions get, `directives test` tries a file over the
demo mission's recorded trace."""

from __future__ import annotations

from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

from sealed import missions
from sealed.config import Settings
from sealed.demo import DEMO_MISSION, result_deciding
from sealed.identity.openbao.admin import VaultAdmin
from sealed.models import MissionStatus
from sealed.spec_loader import load_mission
from tests.integration.conftest import run_cli

POLICY = """\
@id("few-calls") @action("deny_call") @reason("a short mission")
forbid(principal, action == Sealed::Action::"call", resource)
when { context.trace.calls > 20 };
"""
NO_READS = """\
@id("no-reads") @action("deny_call")
forbid(principal, action == Sealed::Action::"call", resource == Sealed::Tool::"tickets.read");
"""


def profile_file(folder: Path, name: str, policies: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "tools": {"tickets.list": {}, "tickets.read": {}},
                "egress": ["docs.example.com"],
                "directives": {"relax": ["sealed.after-injection"], "policies": policies},
            }
        )
    )
    return path


async def test_profiles_apply_checks_directives_and_show_says_what_missions_get(
    stack_env: dict[str, str], admin_for_tests: VaultAdmin, tmp_path: Path
):
    bad = profile_file(tmp_path, "directed-bad", "\n" + POLICY.replace("calls", "callz"))
    code, out, err = await run_cli("profiles", "apply", str(bad), env=stack_env)
    assert code == 2, out + err
    assert f"{bad} (directives.policies):2: " in err and "trace.callz" in err
    assert admin_for_tests.profile("directed-bad") is None  # nothing applied

    good = profile_file(tmp_path, "directed", POLICY)
    code, out, err = await run_cli("profiles", "apply", str(good), env=stack_env)
    assert code == 0, err
    assert admin_for_tests.profile("directed") is not None

    code, out, err = await run_cli("directives", "show", "directed", env=stack_env)
    assert code == 0, err
    assert "shipped defaults relaxed: sealed.after-injection" in out
    assert "egress allowlist: docs.example.com" in out
    rows = {line.split()[0]: line for line in out.splitlines()[5:]}
    assert "sealed.after-injection" not in rows
    assert "sealed.untrusted-egress" in rows and "default" in rows["sealed.untrusted-egress"]
    assert rows["few-calls"].split()[1:5] == ["profile", "forbid", "deny_call", "enforce"]
    assert f"{good} (directives.policies):1" in rows["few-calls"]
    assert "a short mission" in rows["few-calls"]

    code, _, err = await run_cli("directives", "show", "nobody-registered", env=stack_env)
    assert code == 1 and "not registered" in err


async def test_submit_checks_the_mission_with_its_profile(
    client: Client, stack_env: dict[str, str], tmp_path: Path
):
    before = len(await missions.list_missions(client, limit=1000))
    spec = {
        "name": "directed",
        "profile": "tester",
        "goal": "read the queue",
        "tools": ["tickets.list"],
        "model": {"provider": "scripted", "script": {"turns": [{"final": "done"}]}},
        "directives": {
            "policies": 'forbid(principal, action, resource == Sealed::Tool::"nowhere.send");\n'
        },
    }
    path = tmp_path / "mission.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, out, err = await run_cli("submit", str(path), env=stack_env)
    assert code == 2, out + err
    assert f"{path} (directives.policies):1: unknown tool 'nowhere.send'" in err
    assert len(await missions.list_missions(client, limit=1000)) == before


async def test_directives_test_over_the_demo_mission(
    client: Client,
    worker,
    stack_settings: Settings,
    stack_env: dict[str, str],
    demo_approver_key: Ed25519PrivateKey,
    tmp_path: Path,
):
    handle = await missions.submit(client, stack_settings, load_mission(DEMO_MISSION))
    result = await result_deciding(client, handle, demo_approver_key)
    assert result.status == MissionStatus.ABORTED, result.reason

    file = tmp_path / "no-reads.cedar"
    file.write_text(NO_READS)
    code, out, err = await run_cli(
        "directives", "test", str(file), "--mission", handle.id, env=stack_env
    )
    assert code == 0, err
    assert f"mission {handle.id} (profile support-agent): its recorded directives" in out
    blocks = out.split("\nturn ")[1:]
    reads = [b.split("\n")[0] for b in blocks if "no-reads (system, deny_call, enforce)" in b]
    assert [r.split()[2:] for r in reads] == [["tickets.read", "call"]] * 2
    [fetch] = [b for b in blocks if "http.fetch  call" in b]
    assert "(did not run)" in fetch and "sealed.untrusted-egress (default, abort" in fetch
    assert "2 refused" in out and "first abort: " in out

    code, _, err = await run_cli(
        "directives", "test", str(file), "--mission", "mission-nobody-0", env=stack_env
    )
    assert code == 1 and "no mission 'mission-nobody-0'" in err
