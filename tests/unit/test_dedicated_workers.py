"""Per-profile workers (red team 7): a dedicated profile's missions run on its
own task queue, on workers whose OpenBao login can mint under its token role
only. Here without servers: the policies rendered, the login each worker
finds, the queue a mission is submitted to, and the worker-side refusal in
front of OpenBao's (tests/integration/test_dedicated_workers.py)."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from typer.testing import CliRunner

from sealed.activities.mission import MissionActivities
from sealed.audit import AuditLog
from sealed.cli import app
from sealed.config import Settings, login_files, login_name
from sealed.contract import WORKFLOW_NAME
from sealed.identity.bootstrap import AppRoleLogin
from sealed.identity.broker import CredentialBroker
from sealed.identity.openbao.admin import shared_worker_policy, worker_policy
from sealed.identity.profiles import (
    Profile,
    ProfileNotAllowed,
    ensure_served,
    profile_queue,
    token_role,
)
from sealed.missions import task_queue
from sealed.models import (
    MissionInput,
    MissionResult,
    MissionSpec,
    MissionStatus,
    ToolCall,
    ToolCallInput,
)
from sealed.pinning import FilePromptStore
from sealed.redaction.screen import Screens
from sealed.testing import DictBackend, StaticProfiles, StaticRedactionKey
from sealed.tools.registry import REGISTRY, ToolContext, tool
from sealed.workers.worker import Spine, build_workers


class NoArgs(BaseModel):
    pass


@tool(name="test.dedicated_key", secrets=["api_key"])
async def dedicated_key(ctx: ToolContext, args: NoArgs) -> str:
    """Says how long its secret is."""
    return f"key of {len(ctx.secret('api_key').reveal())}"


TOOLS = {"test.dedicated_key": REGISTRY["test.dedicated_key"]}


def profile(name: str, worker: str) -> Profile:
    return Profile.model_validate(
        {
            "name": name,
            "worker": worker,
            "tools": {"test.dedicated_key": {"secrets": ["api_key"]}},
            "secrets": {"api_key": {"backend": "dict", "ref": "api_key"}},
        }
    )


ALPHA, BRAVO, SHARED = (
    profile("alpha", "dedicated"),
    profile("bravo", "dedicated"),
    profile("plain", "shared"),
)


# --- the policies -------------------------------------------------------------------


def rules(policy: str) -> list[str]:
    return [line for line in policy.splitlines() if line.strip()]


def test_the_shared_worker_may_mint_under_every_role_but_the_dedicated_ones():
    policy = shared_worker_policy(["bravo", "alpha"])
    creates = [r for r in rules(policy) if "auth/token/create/" in r]
    assert creates == [
        'path "auth/token/create/sealed-p-*" { capabilities = ["update"] }',
        'path "auth/token/create/sealed-p-alpha" { capabilities = ["deny"] }',
        'path "auth/token/create/sealed-p-bravo" { capabilities = ["deny"] }',
    ]
    assert "deny" not in shared_worker_policy([])


def test_a_per_profile_worker_may_mint_under_its_roles_only_and_reads_what_every_worker_reads():
    policy = worker_policy([token_role("alpha"), token_role("bravo")])
    creates = [r for r in rules(policy) if "auth/token/create/" in r]
    assert creates == [
        'path "auth/token/create/sealed-p-alpha" { capabilities = ["update"] }',
        'path "auth/token/create/sealed-p-bravo" { capabilities = ["update"] }',
    ]
    assert "*" not in "".join(creates)
    # One rendering: whatever else a worker may do is the same for both kinds.
    others = [r for r in rules(policy) if "auth/token/create/" not in r]
    assert others == [r for r in rules(shared_worker_policy([])) if "auth/token/create/" not in r]
    assert any("revoke-accessor" in r for r in others)
    assert not any("sealed/secrets" in r for r in others)  # never a secret value


# --- the logins ----------------------------------------------------------------------


def test_a_set_of_profiles_has_one_login_name():
    assert login_name("worker") == "worker"
    assert login_name("codec") == "codec"
    assert login_name("worker", ["bravo", "alpha", "bravo"]) == "worker-alpha_bravo"
    assert login_files(login_name("worker", ["alpha"])) == (
        "worker-alpha-role-id",
        "worker-alpha-secret-id",
    )
    with pytest.raises(ValueError, match="only a worker login"):
        login_name("codec", ["alpha"])


def test_a_per_profile_worker_finds_its_own_login_not_the_shared_one(tmp_path: Path):
    for login in (
        AppRoleLogin(login="worker", role_id="shared-role", secret_id="shared-sid"),
        AppRoleLogin(
            login="worker", profiles=("alpha", "bravo"), role_id="ab-role", secret_id="ab-sid"
        ),
    ):
        login.write(tmp_path)
    assert (tmp_path / "worker-alpha_bravo-secret-id").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path).worker_approle() == ("shared-role", "shared-sid")
    both = Settings(data_dir=tmp_path, worker_profiles="bravo,alpha")
    assert both.worker_profiles == ["alpha", "bravo"]
    assert both.worker_approle() == ("ab-role", "ab-sid")
    assert both.approle("worker") == ("ab-role", "ab-sid")  # the codec keys too


def test_without_its_login_a_per_profile_worker_says_how_to_make_one(tmp_path: Path):
    AppRoleLogin(login="worker", role_id="shared-role", secret_id="shared-sid").write(tmp_path)
    with pytest.raises(SystemExit, match=r"run `sealed bootstrap --worker-for alpha`"):
        Settings(data_dir=tmp_path, worker_profiles=["alpha"]).worker_approle()


def test_sealed_worker_for_profiles_without_their_login_says_which_bootstrap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path))  # no stack: nothing is reached
    # Its logging would outlive the runner's captured stderr.
    monkeypatch.setattr("sealed.cli.worker.configure_logging", lambda _: None)
    AppRoleLogin(login="worker", role_id="shared-role", secret_id="shared-sid").write(tmp_path)
    result = CliRunner().invoke(app, ["worker", "--profiles", "bravo,alpha"])
    assert result.exit_code == 1
    assert "run `sealed bootstrap --worker-for alpha,bravo`" in result.output
    result = CliRunner().invoke(app, ["worker", "--profiles", "alpha,../bravo"])
    assert result.exit_code == 2 and "not a profile name" in result.output


def test_worker_profiles_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEALED_WORKER_PROFILES", " bravo, alpha ")
    assert Settings().worker_profiles == ["alpha", "bravo"]
    monkeypatch.setenv("SEALED_WORKER_PROFILES", '["alpha"]')
    assert Settings().worker_profiles == ["alpha"]
    monkeypatch.setenv("SEALED_WORKER_PROFILES", "alpha,../bravo")
    with pytest.raises(ValidationError):
        Settings()


# --- where missions go, and who serves them ---------------------------------------------


def test_a_dedicated_profiles_missions_go_to_its_own_queue():
    settings = Settings(task_queue="shared-q")
    assert task_queue(settings, ALPHA) == profile_queue("alpha") == "sealed-p-alpha"
    assert task_queue(settings, SHARED) == "shared-q"
    assert task_queue(settings, None) == "shared-q"


def test_each_worker_serves_its_own():
    ensure_served(SHARED, None)
    ensure_served(ALPHA, frozenset({"alpha"}))
    with pytest.raises(ProfileNotAllowed, match=r"'alpha' is dedicated.*sealed-p-alpha"):
        ensure_served(ALPHA, None)
    with pytest.raises(ProfileNotAllowed, match=r"serves only profiles alpha: .*'bravo'"):
        ensure_served(BRAVO, frozenset({"alpha"}))
    with pytest.raises(ProfileNotAllowed, match=r"'plain' runs on the shared worker"):
        ensure_served(SHARED, frozenset({"alpha"}))


def spine(tmp_path: Path, backend: DictBackend) -> Spine:
    audit = AuditLog(tmp_path / "audit.log")
    return Spine(
        profiles=StaticProfiles(ALPHA, BRAVO, SHARED),
        credentials=CredentialBroker({"dict": backend}, audit),
        screens=Screens(StaticRedactionKey(b"k" * 32), audit),
        prompts=FilePromptStore(tmp_path / "prompts"),
        audit=audit,
    )


def tool_call(profile_name: str) -> ToolCallInput:
    return ToolCallInput(
        mission_id=f"m-{profile_name}",
        profile=profile_name,
        call=ToolCall(id="call-1-0", name="test.dedicated_key", arguments={}),
    )


@pytest.mark.parametrize(
    ("serves", "refused", "served"),
    [(None, "alpha", "plain"), (frozenset({"alpha"}), "bravo", "alpha")],
    ids=["shared worker", "per-profile worker"],
)
async def test_a_worker_refuses_a_profile_it_does_not_serve_before_minting(
    tmp_path: Path, serves: frozenset[str] | None, refused: str, served: str
):
    backend = DictBackend({"api_key": "s3cr3t-value"})
    s = spine(tmp_path, backend)
    activities = MissionActivities(
        profiles=s.profiles,
        credentials=s.credentials,
        screens=s.screens,
        prompts=s.prompts,
        audit=s.audit,
        tools=TOOLS,
        serves=serves,
    )
    env = ActivityEnvironment()
    with pytest.raises(ProfileNotAllowed):
        await env.run(activities.run_tool, tool_call(refused))
    assert backend.issued == []  # OpenBao was never even asked
    result = await env.run(activities.run_tool, tool_call(served))
    assert (result.output, result.is_error) == ("key of 12", False)
    assert len(backend.issued) == 1


def mission(profile_name: str) -> MissionSpec:
    call = {"name": "test.dedicated_key", "arguments": {}}
    return MissionSpec.model_validate(
        {
            "name": "dedicated",
            "profile": profile_name,
            "goal": "use the key",
            "tools": ["test.dedicated_key"],
            "model": {
                "provider": "scripted",
                "script": {"turns": [{"tool_calls": [call]}, {"final": "done"}]},
            },
        }
    )


async def run_on(env: WorkflowEnvironment, queue: str, profile_name: str) -> MissionResult:
    mission_id = f"unit-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        WORKFLOW_NAME,
        MissionInput(mission_id=mission_id, spec=mission(profile_name)),
        id=mission_id,
        task_queue=queue,
        result_type=MissionResult,
        execution_timeout=timedelta(minutes=5),
    )
    return await handle.result()


async def test_a_per_profile_worker_polls_its_profiles_queues_and_serves_only_them(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
):
    backend = DictBackend({"api_key": "s3cr3t-value"})
    settings = Settings(task_queue=f"unit-shared-{uuid.uuid4().hex[:6]}", worker_profiles=["alpha"])
    workers = build_workers(
        time_skipping_env.client,
        settings,
        spine=spine(tmp_path, backend),
        tools=TOOLS,
    )
    assert [w.task_queue for w in workers] == ["sealed-p-alpha"]
    async with AsyncExitStack() as stack:
        for w in workers:
            await stack.enter_async_context(w)
        done = await run_on(time_skipping_env, "sealed-p-alpha", "alpha")
        assert done.status == MissionStatus.COMPLETED and done.answer == "done"
        # A mission of another profile put on this worker's queue (past the CLI):
        # the first model turn refuses it, nothing is minted, nothing retried.
        issued = len(backend.issued)
        refused = await run_on(time_skipping_env, "sealed-p-alpha", "bravo")
    assert refused.status == MissionStatus.FAILED
    assert refused.reason is not None and "serves only profiles alpha" in refused.reason
    assert len(backend.issued) == issued


async def test_the_shared_worker_fails_a_dedicated_profiles_mission(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
):
    backend = DictBackend({"api_key": "s3cr3t-value"})
    queue = f"unit-shared-{uuid.uuid4().hex[:6]}"
    [worker] = build_workers(
        time_skipping_env.client,
        Settings(task_queue=queue),
        spine=spine(tmp_path, backend),
        tools=TOOLS,
    )
    async with worker:
        refused = await run_on(time_skipping_env, queue, "alpha")
    assert refused.status == MissionStatus.FAILED
    assert refused.reason is not None and "sealed worker --profiles alpha" in refused.reason
    assert backend.issued == []
