"""`sealed keys | pending | approve | deny` on the session stack, against a
stand-in for the mission workflow that holds one approval request the way the
contract says (the `approvals` query, the `approve`/`deny` signals, the
`decide` update with the check as its validator, SealedStatus while waiting):
the CLI's own paths, and the stock `temporal workflow signal` command that
`--print-json` prints, sent through the codec server to a strict worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from sealed.approvals import (
    ApprovalRequest,
    ApprovalState,
    Decision,
    DecisionRejected,
    argument_digest,
    check,
)
from sealed.approvals.keys import fingerprint, new_key, public_text
from sealed.contract import (
    APPROVALS_QUERY,
    APPROVE_SIGNAL,
    DECIDE_UPDATE,
    DENY_SIGNAL,
    SA_STATUS,
    WORKFLOW_NAME,
)
from sealed.devstack.binaries import executable
from sealed.identity.openbao.admin import VaultAdmin
from sealed.models import MissionStatus
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration

QUEUE = f"approval-stand-in-{uuid.uuid4().hex[:6]}"


class StandInInput(BaseModel):
    request: ApprovalRequest
    keys: dict[str, str]


@workflow.defn(name=WORKFLOW_NAME)
class StandIn:
    """One request, decided as the contract says; the workflow ends when it is."""

    def __init__(self) -> None:
        self.state: ApprovalState | None = None
        self.keys: dict[str, str] = {}
        self.used: set[str] = set()
        self.rejected: list[str] = []

    @workflow.run
    async def run(self, given: StandInInput) -> ApprovalState:
        self.state, self.keys = ApprovalState(request=given.request), given.keys
        workflow.upsert_search_attributes(
            [SA_STATUS.value_set(MissionStatus.AWAITING_APPROVAL.value)]
        )
        await workflow.wait_condition(lambda: self._current().status != "pending")
        workflow.upsert_search_attributes([SA_STATUS.value_set(MissionStatus.COMPLETED.value)])
        return self._current()

    def _current(self) -> ApprovalState:
        assert self.state is not None
        return self.state

    def _check(self, decision: Decision) -> None:
        state = self.state if decision.request_id == self._current().request.id else None
        check(
            decision,
            state,
            mission_id=workflow.info().workflow_id,
            approver_keys=self.keys,
            now=workflow.now(),
            used=self.used,
        )

    def _count(self, decision: Decision) -> str:
        state = self._current()
        self.used.add(decision.used_id)
        if decision.decision == "deny":
            state.status, state.decided_by, state.reason = (
                "denied",
                decision.approver,
                decision.reason,
            )
        else:
            state.approved_by.append(decision.approver)
            state.arguments = decision.arguments
            if len(state.approved_by) >= state.request.quorum:
                state.status, state.decided_by = "approved", decision.approver
        return state.status

    def _signal(self, decision: Decision, verdict: str) -> None:
        try:
            if decision.decision != verdict:
                raise DecisionRejected(f"a {decision.decision} sent as {verdict}")
            self._check(decision)
        except DecisionRejected as exc:
            self.rejected.append(str(exc))
            return
        self._count(decision)

    @workflow.signal(name=APPROVE_SIGNAL)
    def approve(self, decision: Decision) -> None:
        self._signal(decision, "approve")

    @workflow.signal(name=DENY_SIGNAL)
    def deny(self, decision: Decision) -> None:
        self._signal(decision, "deny")

    @workflow.update(name=DECIDE_UPDATE)
    def decide(self, decision: Decision) -> str:
        return self._count(decision)

    @decide.validator
    def _valid(self, decision: Decision) -> None:
        self._check(decision)

    @workflow.query(name=APPROVALS_QUERY)
    def approvals(self) -> list[ApprovalState]:
        return [self._current()]

    @workflow.query(name="rejected")
    def rejections(self) -> list[str]:
        return self.rejected


@pytest.fixture(scope="module")
async def stand_in_worker(client: Client) -> AsyncIterator[Worker]:
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[StandIn],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        yield worker


@pytest.fixture(scope="module")
async def approvers(
    tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], admin_for_tests: VaultAdmin
) -> dict[str, Path]:
    """Two approvers made with `sealed keys new`, registered in OpenBao."""
    folder = tmp_path_factory.mktemp("approvers")
    files = {}
    for who in ("alice", "bob"):
        name = f"{who}-{uuid.uuid4().hex[:6]}"
        code, out, err = await run_cli("keys", "new", name, env=stack_env)
        assert code == 0, err
        default = Path(stack_env["SEALED_DATA_DIR"]) / "approvers" / f"{name}.key"
        assert f"private key: {default}" in out
        assert "BEGIN" not in out + err  # never the private key
        public = admin_for_tests.approver(name)
        assert public is not None and f"public key:  {public}" in out
        assert default.stat().st_mode & 0o777 == 0o600
        files[name] = folder / f"{who}.key"
        default.rename(files[name])
    return files


async def start(
    client: Client, admin: VaultAdmin, approvers: dict[str, Path], quorum: int
) -> WorkflowHandle[StandIn, ApprovalState]:
    mission_id = f"mission-approval-{uuid.uuid4().hex[:8]}"
    arguments = {"ticket": "T-1", "body": "We will refund you. It's done."}
    names = list(approvers)
    request = ApprovalRequest(
        id="approval-call-1-0",
        mission_id=mission_id,
        call_id="call-1-0",
        tool="tickets.comment",
        privilege="high",
        arguments=arguments,
        digest=argument_digest(mission_id, "call-1-0", "tickets.comment", arguments),
        approvers=names,
        quorum=quorum,
        deadline=datetime.now(UTC) + timedelta(minutes=10),
        on_timeout="deny",
    )
    keys = {name: admin.approver(name) or "" for name in names}
    handle = await client.start_workflow(
        StandIn.run,
        StandInInput(request=request, keys=keys),
        id=mission_id,
        task_queue=QUEUE,
        execution_timeout=timedelta(minutes=5),
    )
    # Until the query answers and the search attribute is visible.
    async with asyncio.timeout(30):
        while True:
            desc = await handle.describe()
            if desc.typed_search_attributes.get(SA_STATUS) == "awaiting_approval":
                break
            await asyncio.sleep(0.1)
    return handle


def cli_args(handle: WorkflowHandle, name: str, key: Path, *extra: str) -> list[str]:
    return [handle.id, "approval-call-1-0", "--as", name, "--key", str(key), *extra]


async def test_pending_then_a_quorum_by_update_and_by_the_stock_cli(
    client: Client,
    admin_for_tests: VaultAdmin,
    stand_in_worker: Worker,
    approvers: dict[str, Path],
    stack_env: dict[str, str],
):
    handle = await start(client, admin_for_tests, approvers, quorum=2)
    (alice, alice_key), (bob, bob_key) = approvers.items()

    code, out, err = await run_cli("pending", env=stack_env)
    assert code == 0, err
    assert f"{handle.id}  approval-call-1-0" in out
    assert "tickets.comment (high)" in out and "0 of 2 approvals" in out

    code, out, err = await run_cli("approve", *cli_args(handle, alice, alice_key), env=stack_env)
    assert code == 0, err
    assert f"approved by {alice}" in out and "the request is pending" in out

    # The same approver again: refused at once, with the check's reason.
    code, out, err = await run_cli("approve", *cli_args(handle, alice, alice_key), env=stack_env)
    assert code == 1 and "already approved" in err

    # The second approval by the stock CLI, exactly as printed.
    code, out, err = await run_cli(
        "approve", *cli_args(handle, bob, bob_key, "--print-json"), env=stack_env
    )
    assert code == 0, err
    decision_line, command = out.strip().splitlines()
    Decision.model_validate_json(decision_line)
    assert "--codec-endpoint" in command and stack_env["SEALED_CODEC_URL"] in command
    code, serr = await run_shell(command)
    assert code == 0, serr
    async with asyncio.timeout(30):
        result = await handle.result()
    assert result.status == "approved" and result.approved_by == [alice, bob]

    code, out, err = await run_cli("pending", env=stack_env)
    assert handle.id not in out


async def test_a_deny_by_update_and_a_tampered_stock_cli_signal(
    client: Client,
    admin_for_tests: VaultAdmin,
    stand_in_worker: Worker,
    approvers: dict[str, Path],
    stack_env: dict[str, str],
):
    handle = await start(client, admin_for_tests, approvers, quorum=1)
    (alice, alice_key), (bob, bob_key) = approvers.items()

    code, out, err = await run_cli(
        "deny", *cli_args(handle, bob, bob_key, "--print-json", "--reason", "no"), env=stack_env
    )
    assert code == 0, err
    _, command = out.strip().splitlines()
    assert "--name deny" in command
    tampered = command.replace('"decision":"deny"', '"decision":"approve"').replace(
        "--name deny", "--name approve"
    )
    assert tampered != command
    code, serr = await run_shell(tampered)
    assert code == 0, serr
    async with asyncio.timeout(30):
        while True:
            rejected = await handle.query("rejected", result_type=list[str])
            if rejected:
                break
            await asyncio.sleep(0.1)
    assert "signature" in rejected[0]
    [state] = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalState])
    assert state.status == "pending" and not state.approved_by

    code, out, err = await run_cli(
        "deny", *cli_args(handle, alice, alice_key, "--reason", "not today"), env=stack_env
    )
    assert code == 0, err
    assert "the request is denied" in out
    result = await handle.result()
    assert result.status == "denied" and result.reason == "not today"

    code, out, err = await run_cli("approve", *cli_args(handle, alice, alice_key), env=stack_env)
    assert code == 1 and "already denied" in err


async def run_shell(command: str) -> tuple[int, bytes]:
    """A printed command as a person's shell runs it, `temporal` on PATH."""
    shell = await asyncio.create_subprocess_shell(
        command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PATH": f"{executable('temporal').parent}:{os.environ['PATH']}"},
    )
    _, err = await asyncio.wait_for(shell.communicate(), 60)
    assert shell.returncode is not None
    return shell.returncode, err


async def test_a_plaintext_signal_does_not_jam_the_mission(
    client: Client,
    admin_for_tests: VaultAdmin,
    stand_in_worker: Worker,
    approvers: dict[str, Path],
    stack_env: dict[str, str],
):
    handle = await start(client, admin_for_tests, approvers, quorum=1)
    (alice, alice_key), _ = approvers.items()
    try:
        code, out, err = await run_cli(
            "approve", *cli_args(handle, alice, alice_key, "--print-json"), env=stack_env
        )
        assert code == 0, err
        without_codec = out.strip().splitlines()[1].split(" --codec-endpoint")[0]
        code, err_bytes = await run_shell(without_codec)
        assert code == 0, err_bytes  # the frontend takes anything
        await asyncio.sleep(1)
        code, out, err = await run_cli(
            "approve", *cli_args(handle, alice, alice_key), env=stack_env
        )
        assert code == 0, err
        assert (await handle.result()).status == "approved"
    finally:
        with contextlib.suppress(RPCError):  # not if it ended
            await handle.terminate("test over")


async def test_keys_register_list_and_remove(
    admin_for_tests: VaultAdmin, approvers: dict[str, Path], stack_env: dict[str, str]
):
    name, public = f"carol-{uuid.uuid4().hex[:6]}@example.com", public_text(new_key())
    code, out, err = await run_cli("keys", "register", name, public, env=stack_env)
    assert code == 0, err
    assert f"fingerprint: {fingerprint(public)}" in out and f"registered approver '{name}'" in out
    assert admin_for_tests.approver(name) == public

    other = public_text(new_key())
    code, out, err = await run_cli("keys", "register", name, other, env=stack_env)
    assert code == 1 and "--replace" in err
    code, out, err = await run_cli("keys", "register", name, other, "--replace", env=stack_env)
    assert code == 0, err
    assert admin_for_tests.approver(name) == other

    code, out, err = await run_cli("keys", "list", env=stack_env)
    assert code == 0, err
    assert any(line.split() == [name, fingerprint(other)] for line in out.splitlines())
    for approver in approvers:
        assert approver in out

    code, out, err = await run_cli("keys", "remove", name, env=stack_env)
    assert code == 0 and f"removed approver '{name}'" in out
    assert admin_for_tests.approver(name) is None
    code, out, err = await run_cli("keys", "remove", name, env=stack_env)
    assert code == 1 and "no approver" in err
