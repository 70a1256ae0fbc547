"""Sealed I, II, III-A, III-D against the real OpenBao of the session stack:
per-call credentials issued, used and revoked; the ACL refused twice (by the
runtime before any backend call, and by the backend's own policy); revocation
cascading to leaked credentials, running missions and new submissions."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path

import hvac
import hvac.exceptions
import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from sealed import missions
from sealed.activities.heartbeat import ABANDONED
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.identity.backend import (
    CredentialRequest,
    NotRenewable,
    SecretSpec,
    SecretUnavailable,
)
from sealed.identity.bootstrap import ensure_kv
from sealed.identity.broker import CredentialBroker, CredentialRefused
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.credentials import VaultBackend
from sealed.identity.openbao.kv import read_kv_versioned
from sealed.identity.profiles import Profile, ProfileNotAllowed
from sealed.models import MissionStatus
from sealed.revocation import Revoker, SubmissionRefused, ensure_submittable
from tests.integration.conftest import run_cli, stalling_mission, tickets_token


@pytest.fixture(scope="module")
def admin(stack: StackInfo) -> VaultAdmin:
    return VaultAdmin(stack.vault_addr, (Path(stack.data_dir) / "vault-root-token").read_text())


@pytest.fixture(scope="module")
def vault_worker(stack_settings: Settings) -> AppRoleClient:
    return AppRoleClient(stack_settings.vault_addr, *stack_settings.worker_approle())


def victim_profile(name: str) -> Profile:
    return Profile.model_validate(
        {
            "name": name,
            "tools": {
                "test.stall": {},
                "tickets.read": {},
                "probe.vault": {"secrets": ["probe"]},
            },
            "secrets": {"probe": {"backend": "vault-token", "ref": "probe"}},
        }
    )


def request(
    profile: str, tool: str, secret: str, spec: SecretSpec, mission: str = "m-1"
) -> CredentialRequest:
    return CredentialRequest(
        mission_id=mission,
        profile=profile,
        tool=tool,
        call_id="call-1-0",
        secret=secret,
        spec=spec,
        ttl=timedelta(minutes=2),
    )


def alive(admin: VaultAdmin, token: str) -> bool:
    """Asked as the operator: a call's token may not even look itself up."""
    try:
        admin.client.auth.token.lookup(token)
    except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
        return False
    return True


async def test_issue_use_revoke_through_the_broker(
    stack, stack_settings, vault_worker, admin, tmp_path
):
    profile = admin.profile("tester")
    assert profile is not None
    audit = AuditLog(tmp_path / "audit.log")
    backend = VaultBackend(vault_worker)
    broker = CredentialBroker(dict.fromkeys(VaultBackend.kinds, backend), audit)
    async with broker.credentials(
        profile=profile,
        tool="tickets.comment",
        secrets=("tickets_token",),
        mission_id="m-issue",
        call_id="call-1-0",
        ttl=timedelta(minutes=1),
    ) as secrets:
        assert secrets["tickets_token"].reveal() == tickets_token(stack)
        issued = audit.events("m-issue")[0]
        assert issued.kind == "credential.issued"
        meta = admin.client.auth.token.lookup_accessor(issued.lease_id)["data"]["meta"]
        assert meta["mission_id"] == "m-issue" and meta["tool"] == "tickets.comment"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        admin.client.auth.token.lookup_accessor(issued.lease_id)  # revoked when the call ended
    kinds = [(e.kind, e.secret, e.lease_id) for e in audit.events("m-issue")]
    assert kinds == [
        ("credential.issued", "tickets_token", issued.lease_id),
        ("credential.used", "tickets_token", issued.lease_id),
        ("credential.revoked", "tickets_token", issued.lease_id),
    ]
    audit.forbid_values([tickets_token(stack)])


async def test_a_secret_the_profile_does_not_grant_is_refused_before_the_backend(
    vault_worker, admin, tmp_path
):
    profile = admin.profile("tester")
    assert profile is not None
    calls: list[CredentialRequest] = []

    class Spy(VaultBackend):
        async def issue(self, request):  # type: ignore[no-untyped-def]
            calls.append(request)
            return await super().issue(request)

    audit = AuditLog(tmp_path / "audit.log")
    broker = CredentialBroker({"vault-kv": Spy(vault_worker)}, audit)
    with pytest.raises(CredentialRefused, match=r"does not grant 'test\.stall'"):
        async with broker.credentials(
            profile=profile,
            tool="test.stall",
            secrets=("tickets_token",),
            mission_id="m-acl",
            call_id="c",
            ttl=timedelta(minutes=1),
        ):
            pytest.fail("the tool must not run")
    assert calls == []
    assert [e.kind for e in audit.events("m-acl")] == ["credential.refused"]


async def test_the_backend_policy_refuses_it_too(vault_worker):
    """Defence in depth: even asked directly, the (profile, tool) token of a
    tool with no grant cannot read the secret."""
    backend = VaultBackend(vault_worker)
    spec = SecretSpec(backend="vault-kv", ref="tickets_token")
    with pytest.raises(SecretUnavailable, match="permission denied"):
        await backend.issue(request("tester", "test.stall", "tickets_token", spec))


def abandoned_calls(caplog: pytest.LogCaptureFixture, workflow_ids: list[str]) -> list[str]:
    """The missions whose in-flight call the worker closed as abandoned."""
    found = []
    for record in caplog.records:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ApplicationError) and error.type == ABANDONED:
            found += [w for w in workflow_ids if w in record.getMessage()]
    return found


async def test_revoking_a_profile_cascades(
    client: Client, worker, stack, stack_settings, admin, vault_worker, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG, logger="temporalio.activity")
    name = f"victim-{uuid.uuid4().hex[:6]}"
    admin.apply_profile(victim_profile(name))
    backend = VaultBackend(vault_worker)
    spec = SecretSpec(backend="vault-token", ref="probe")
    leaked = [
        (await backend.issue(request(name, "probe.vault", "probe", spec, f"m-{i}"))).value.reveal()
        for i in range(3)
    ]
    assert all(alive(admin, token) for token in leaked)

    stalling = stalling_mission(name)
    handles = [await missions.submit(client, stack_settings, stalling) for _ in range(3)]
    async with asyncio.timeout(30):
        for handle in handles:
            await missions.wait_for_pending(client, handle.id, "tool:")

    revoker = Revoker(admin, client, AuditLog(tmp_path / "audit.log"))
    report = await revoker.revoke_profile(name, "key leaked", "tests")

    assert not any(alive(admin, token) for token in leaked), "a leaked credential still works"
    assert sorted(report.missions_aborted) == sorted(h.id for h in handles)
    for handle in handles:
        result = await handle.result()
        assert result.status == MissionStatus.ABORTED and "key leaked" in (result.reason or "")
    # The aborts did not wait for the calls: each learns at its next heartbeat
    # that its mission is gone and ends quietly, not as a failure with a traceback.
    ids = [h.id for h in handles]
    for _ in range(150):
        if sorted(abandoned_calls(caplog, ids)) == sorted(ids):
            break
        await asyncio.sleep(0.1)
    assert sorted(abandoned_calls(caplog, ids)) == sorted(ids)
    assert not [
        r
        for r in caplog.records
        if r.name == "temporalio.activity" and r.levelno >= logging.WARNING
    ]
    with pytest.raises(SubmissionRefused, match="revoked"):
        ensure_submittable(admin, stalling)
    with pytest.raises(SecretUnavailable, match="revoked or not registered"):
        await backend.issue(request(name, "probe.vault", "probe", spec))
    assert [r.name for r in admin.revocations() if r.kind == "profile"].count(name) == 1

    lifted = await revoker.unrevoke("profile", name, "tests")
    assert lifted is not None and lifted.reason == "key leaked"
    ensure_submittable(admin, stalling)
    fresh = await backend.issue(request(name, "probe.vault", "probe", spec))
    assert alive(admin, fresh.value.reveal())
    kinds = [e.kind for e in AuditLog(tmp_path / "audit.log").events()]
    assert kinds.count("mission.aborted") == 3
    assert kinds[0] == "revocation.added" and kinds[-1] == "revocation.lifted"


async def test_revoking_one_mission(
    client: Client, worker, stack, stack_settings, admin, vault_worker, tmp_path
):
    name = f"victim-{uuid.uuid4().hex[:6]}"
    admin.apply_profile(victim_profile(name))
    spec = SecretSpec(backend="vault-token", ref="probe")
    backend = VaultBackend(vault_worker)
    mine = (
        await backend.issue(request(name, "probe.vault", "probe", spec, "m-target"))
    ).value.reveal()
    other = (
        await backend.issue(request(name, "probe.vault", "probe", spec, "m-other"))
    ).value.reveal()

    revoker = Revoker(admin, client, AuditLog(tmp_path / "audit.log"))
    report = await revoker.revoke_mission("m-target", "wrong customer", "tests")
    assert report.credentials_killed == 1
    assert not alive(admin, mine) and alive(admin, other)


async def test_revoked_profile_stops_tool_calls_of_missions_not_yet_aborted(vault_worker, admin):
    from sealed.identity.openbao.stores import VaultProfiles

    name = f"victim-{uuid.uuid4().hex[:6]}"
    admin.apply_profile(victim_profile(name))
    profiles = VaultProfiles(vault_worker, ttl=0)
    assert (await profiles.for_call(name, "m-x")).name == name
    admin.record_revocation("profile", name, "test", "tests")
    with pytest.raises(ProfileNotAllowed, match="revoked"):
        await profiles.for_call(name, "m-x")
    admin.record_revocation("mission", "m-y", "test", "tests")
    admin.lift_revocation("profile", name)
    with pytest.raises(ProfileNotAllowed, match="mission 'm-y' is revoked"):
        await profiles.for_call(name, "m-y")


async def test_a_profiles_pii_allowance_survives_openbao(
    stack_env: dict[str, str], vault_worker: AppRoleClient, tmp_path: Path
):
    """`sealed profiles apply` says what the profile leaves unmasked, and the
    workers (their AppRole, VaultProfiles) and `profiles show` read it back."""
    from sealed.identity.openbao.stores import VaultProfiles

    name = f"mailer-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "mailer.yaml"
    path.write_text(f"name: {name}\nredaction:\n  allow_pii: [email, iban]\n")
    code, out, err = await run_cli("profiles", "apply", str(path), env=stack_env)
    assert code == 0, err
    assert "PII left unmasked: email, iban" in out
    stored = await VaultProfiles(vault_worker, ttl=0).for_call(name, "m-x")
    assert stored.redaction.allow_pii == ["email", "iban"]
    code, out, err = await run_cli("profiles", "show", name, env=stack_env)
    assert code == 0, err
    assert json.loads(out)["redaction"] == {"allow_pii": ["email", "iban"]}


async def test_a_call_token_is_exactly_its_tool_for_exactly_its_call(stack, vault_worker, admin):
    """Red team 8: no `default` policy, not renewable (by us or by itself), an
    explicit max TTL of the call's: a copy whose revoke never ran dies on time."""
    name = f"victim-{uuid.uuid4().hex[:6]}"
    admin.apply_profile(victim_profile(name))
    backend = VaultBackend(vault_worker)
    spec = SecretSpec(backend="vault-token", ref="probe")
    credential = await backend.issue(request(name, "probe.vault", "probe", spec))
    token = credential.value.reveal()
    data = admin.client.auth.token.lookup_accessor(credential.lease.lease_id)["data"]
    assert data["policies"] == [f"sealed-p-{name}-t-probe-vault"]
    assert data["renewable"] is False
    assert data["explicit_max_ttl"] == 120 and data["ttl"] <= 120  # the request's 2 minutes
    assert not credential.lease.renewable
    with pytest.raises(NotRenewable):
        await backend.renew(credential.lease, timedelta(hours=1))
    with pytest.raises(hvac.exceptions.VaultError):
        hvac.Client(url=stack.vault_addr, token=token).auth.token.renew_self(increment="24h")
    await backend.revoke(credential.lease)
    assert not alive(admin, token)


def test_a_new_kv_mount_is_ready_when_ensure_kv_returns(admin):
    # OpenBao upgrades a new KV v2 mount in the background and refuses reads
    # meanwhile; the stack's first start read its codec keys in that window.
    mount = f"kv-{uuid.uuid4().hex[:8]}"
    try:
        ensure_kv(admin.client, mount)
        admin.client.secrets.kv.v2.create_or_update_secret(
            path="probe", secret={"v": "1"}, mount_point=mount
        )
        assert read_kv_versioned(admin.client, "probe", mount) == ({"v": "1"}, 1)
    finally:
        admin.client.sys.disable_secrets_engine(mount)
