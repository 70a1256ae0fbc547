"""Per-profile workers against the real OpenBao and Temporal of the session
stack (red team 7): a per-profile worker's AppRole mints under its profiles'
token roles and OpenBao refuses it every other; the shared worker's AppRole is
refused a dedicated profile's, also for a profile that turns dedicated later;
a dedicated profile's mission runs end to end on its own worker, and revoking
the profile still cascades."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import hvac.exceptions
import pytest
from pydantic import BaseModel, SecretStr
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.identity.backend import CredentialRequest, SecretSpec, SecretUnavailable
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.credentials import VaultBackend
from sealed.identity.profiles import Profile, profile_queue, token_role, tool_policy
from sealed.models import MissionSpec, MissionStatus
from sealed.revocation import Revoker, ensure_submittable
from sealed.tools.registry import REGISTRY, ToolContext, tool
from sealed.workers.worker import build_workers
from tests.integration.conftest import run_cli, stalling_mission

PROBE = SecretSpec(backend="vault-token", ref="probe")


class NoArgs(BaseModel):
    pass


@tool(name="test.token_length", secrets=["tickets_token"])
async def token_length(ctx: ToolContext, args: NoArgs) -> str:
    """How long the ticket token is (read from OpenBao with the call's own token)."""
    return f"{len(ctx.secret('tickets_token').reveal())} characters"


def dedicated(name: str, worker: str = "dedicated") -> Profile:
    return Profile.model_validate(
        {
            "name": name,
            "worker": worker,
            "tools": {
                "probe.vault": {"secrets": ["probe"]},
                "test.token_length": {"secrets": ["tickets_token"]},
                "test.stall": {},
            },
            "secrets": {
                "probe": PROBE.model_dump(),
                "tickets_token": {"backend": "vault-kv", "ref": "tickets_token"},
            },
        }
    )


def probe(profile: str, mission: str = "m-ded") -> CredentialRequest:
    return CredentialRequest(
        mission_id=mission,
        profile=profile,
        tool="probe.vault",
        call_id="call-1-0",
        secret="probe",
        spec=PROBE,
        ttl=timedelta(minutes=1),
    )


def raw_mint(worker: AppRoleClient, profile: str) -> None:
    """Straight at OpenBao, as a compromised worker would ask."""
    worker.call(
        "raw mint",
        lambda c: c.auth.token.create(
            role_name=token_role(profile),
            policies=[tool_policy(profile, "probe.vault")],
            no_default_policy=True,
            ttl="60s",
        ),
    )


async def bootstrap_worker_for(
    env: dict[str, str], names: list[str], where: Path
) -> tuple[int, str, str]:
    return await run_cli(
        "bootstrap",
        "--worker-for",
        f"{','.join(names)}={where}",
        "--credentials-dir",
        str(where.parent / "shared-logins"),
        env=env,
    )


@pytest.fixture(scope="module")
def profiles(admin_for_tests: VaultAdmin) -> tuple[str, str, str]:
    """Two dedicated profiles and a shared one, registered."""
    suffix = uuid.uuid4().hex[:6]
    names = (f"ded-a-{suffix}", f"ded-b-{suffix}", f"shared-{suffix}")
    for name in names:
        admin_for_tests.apply_profile(dedicated(name, "shared" if name[0] == "s" else "dedicated"))
    return names


def login(stack: StackInfo, folder: Path, name: str) -> AppRoleClient:
    return AppRoleClient(
        stack.vault_addr,
        (folder / f"{name}-role-id").read_text(),
        (folder / f"{name}-secret-id").read_text(),
    )


async def test_a_per_profile_worker_is_refused_every_other_profiles_role(
    stack: StackInfo, stack_env, stack_settings: Settings, profiles, tmp_path: Path
):
    a, b, plain = profiles
    code, out, err = await bootstrap_worker_for(stack_env, [a], tmp_path / "a")
    assert code == 0, err
    assert f"worker-{a} login written to {tmp_path / 'a'}" in out
    assert (tmp_path / "a" / f"worker-{a}-secret-id").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "a" / "worker-secret-id").exists()  # the shared login went elsewhere

    worker_a = login(stack, tmp_path / "a", f"worker-{a}")
    issued = await VaultBackend(worker_a).issue(probe(a))
    assert issued.value.reveal()
    with pytest.raises(SecretUnavailable, match="permission denied"):
        await VaultBackend(worker_a).issue(probe(b))
    for other in (b, plain):  # another dedicated profile, a shared one
        with pytest.raises(SecretUnavailable, match="permission denied") as refused:
            raw_mint(worker_a, other)
        assert isinstance(refused.value.__cause__, hvac.exceptions.Forbidden)

    shared = AppRoleClient(stack.vault_addr, *stack_settings.worker_approle())
    for name in (a, b):
        with pytest.raises(SecretUnavailable, match="permission denied"):
            await VaultBackend(shared).issue(probe(name))
    assert (await VaultBackend(shared).issue(probe(plain))).value.reveal()


async def test_bootstrap_gives_no_worker_login_for_a_profile_it_cannot_serve(
    stack_env, tmp_path: Path
):
    code, _, err = await bootstrap_worker_for(stack_env, ["tester"], tmp_path / "t")
    assert code == 1 and "'tester' runs on the shared worker" in err
    code, _, err = await bootstrap_worker_for(stack_env, ["nobody-here"], tmp_path / "n")
    assert code == 1 and "'nobody-here' is not registered" in err
    assert not (tmp_path / "t").exists() and not (tmp_path / "n").exists()


async def test_the_shared_workers_policy_follows_the_profiles(
    stack: StackInfo, stack_settings: Settings, admin_for_tests: VaultAdmin
):
    """Applied later, turned dedicated, turned back: never a stale policy."""
    name = f"turns-{uuid.uuid4().hex[:6]}"
    shared = VaultBackend(AppRoleClient(stack.vault_addr, *stack_settings.worker_approle()))
    admin_for_tests.apply_profile(dedicated(name, worker="shared"))
    assert (await shared.issue(probe(name))).value.reveal()
    admin_for_tests.apply_profile(dedicated(name))
    with pytest.raises(SecretUnavailable, match="permission denied"):
        await shared.issue(probe(name))
    admin_for_tests.apply_profile(dedicated(name, worker="shared"))
    assert (await shared.issue(probe(name))).value.reveal()


def key_length_mission(profile: str) -> MissionSpec:
    call = {"name": "test.token_length", "arguments": {}}
    return MissionSpec.model_validate(
        {
            "name": "dedicated",
            "profile": profile,
            "goal": "measure the token",
            "tools": ["test.token_length"],
            "model": {
                "provider": "scripted",
                "script": {"turns": [{"tool_calls": [call]}, {"final": "measured"}]},
            },
        }
    )


async def test_a_dedicated_profiles_mission_runs_on_its_own_worker_and_revocation_cascades(
    client: Client,
    worker,
    stack: StackInfo,
    stack_env,
    stack_settings: Settings,
    admin_for_tests: VaultAdmin,
    tmp_path: Path,
):
    name = f"ded-e2e-{uuid.uuid4().hex[:6]}"
    admin_for_tests.apply_profile(dedicated(name))
    code, _, err = await bootstrap_worker_for(stack_env, [name], tmp_path / "logins")
    assert code == 0, err
    folder = tmp_path / "logins"
    settings = stack_settings.model_copy(
        update={
            "worker_profiles": [name],
            "vault_role_id": (folder / f"worker-{name}-role-id").read_text(),
            "vault_secret_id": SecretStr((folder / f"worker-{name}-secret-id").read_text()),
            "audit_log": tmp_path / "audit.log",
            "audit_anchor": f"test-{name}",
        }
    )
    tools = {n: REGISTRY[n] for n in ("test.token_length", "test.stall")}
    async with AsyncExitStack() as workers:
        for w in build_workers(client, settings, tools=tools):
            assert w.task_queue == profile_queue(name)
            await workers.enter_async_context(w)

        spec = key_length_mission(name)
        registered = ensure_submittable(admin_for_tests, spec)
        handle = await missions.submit(client, stack_settings, spec, profile=registered)
        async with asyncio.timeout(60):
            result = await handle.result()
        assert result.status == MissionStatus.COMPLETED, result.reason
        transcript = await handle.query("transcript")
        assert any(m["content"].endswith("characters") for m in transcript if m["role"] == "tool")
        kinds = [e.kind for e in AuditLog(tmp_path / "audit.log").events(handle.id)]
        assert kinds.count("credential.issued") == kinds.count("credential.revoked") == 1

        # Put on the shared queue (as a client that ignores the profile would):
        # the shared worker refuses it before minting anything.
        stray = await missions.submit(client, stack_settings, spec)
        async with asyncio.timeout(60):
            refused = await stray.result()
        assert refused.status == MissionStatus.FAILED
        assert f"sealed worker --profiles {name}" in (refused.reason or "")

        # Revoking the dedicated profile: its running mission aborted (through
        # its own worker), its worker's login can mint nothing any more.
        stalling = await missions.submit(
            client, stack_settings, stalling_mission(name), profile=registered
        )
        async with asyncio.timeout(30):
            await missions.wait_for_pending(client, stalling.id, "tool:")
        revoker = Revoker(admin_for_tests, client, AuditLog(tmp_path / "revoke.log"))
        report = await revoker.revoke_profile(name, "worker host compromised", "tests")
        assert report.missions_aborted == [stalling.id]
        async with asyncio.timeout(30):
            assert (await stalling.result()).status == MissionStatus.ABORTED
    own = VaultBackend(AppRoleClient(stack.vault_addr, *settings.worker_approle()))
    with pytest.raises(SecretUnavailable, match="revoked or not registered"):
        await own.issue(probe(name))
    await revoker.unrevoke("profile", name, "tests")
    assert (await own.issue(probe(name))).value.reveal()
