"""`sealed bootstrap` against the real OpenBao: idempotent, the codec keys never
replaced, the worker's login bounded and unable to read a secret, a revoked
profile left revoked, a bad profiles folder refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import hvac.exceptions
import pytest
import yaml

from sealed.approvals.keys import new_key, public_text
from sealed.devstack import StackInfo
from sealed.identity.backend import SecretUnavailable
from sealed.identity.bootstrap import CODEC_POLICY, provision_approle
from sealed.identity.bootstrap import bootstrap as run_bootstrap
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.keys import read_vault_keys
from sealed.identity.openbao.kv import WORKER_ROLE, profile_path, read_kv, secret_path
from sealed.identity.profiles import token_role
from tests.integration.conftest import TESTER_PROFILE, run_cli


async def bootstrap(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Without --credentials-dir the login would land in the shared stack's data dir."""
    if "--credentials-dir" not in args:
        args = (*args, "--credentials-dir", str(Path(env["SEALED_DATA_DIR"]) / "bootstrap-test"))
    return await run_cli("bootstrap", *args, env=env)


async def test_bootstrap_twice_gives_a_bounded_login_that_reads_no_secret(
    stack: StackInfo, stack_env, admin_for_tests: VaultAdmin, tmp_path: Path
):
    keys = read_vault_keys(admin_for_tests.client).to_mapping()
    creds = tmp_path / "creds"
    args = ("--profiles", str(TESTER_PROFILE.parent), "--credentials-dir", str(creds))
    code, out, err = await bootstrap(stack_env, *args, "--secret-id-ttl", "2h")
    assert code == 0, err
    assert "profiles        tester" in out
    assert f"worker login    written to {creds}" in out
    role_id = (creds / "worker-role-id").read_text()
    secret_id = (creds / "worker-secret-id").read_text()
    for name in ("worker-secret-id", "codec-secret-id"):
        assert (creds / name).stat().st_mode & 0o777 == 0o600
        assert (creds / name).read_text() not in out + err

    lookup = admin_for_tests.client.auth.approle.read_secret_id(WORKER_ROLE, secret_id)
    assert 0 < lookup["data"]["secret_id_ttl"] <= 2 * 3600

    worker = AppRoleClient(stack.vault_addr, role_id, secret_id)
    assert worker.call("profile", lambda c: read_kv(c, profile_path("tester"))) is not None
    with pytest.raises(SecretUnavailable, match="permission denied"):
        worker.call("secret", lambda c: read_kv(c, secret_path("tickets_token")))

    # The codec server's login reads the codec keys and nothing else.
    codec = AppRoleClient(
        stack.vault_addr,
        (creds / "codec-role-id").read_text(),
        (creds / "codec-secret-id").read_text(),
    )
    assert codec.call("keys", read_vault_keys).to_mapping() == keys
    for path in (profile_path("tester"), secret_path("tickets_token")):
        with pytest.raises(SecretUnavailable, match="permission denied"):
            codec.call("other", lambda c, p=path: read_kv(c, p))

    code, out, err = await bootstrap(stack_env, *args)
    assert code == 0, err
    # Histories depend on the codec keys: a second bootstrap never replaces them.
    assert read_vault_keys(admin_for_tests.client).to_mapping() == keys
    assert (creds / "worker-secret-id").read_text() != secret_id  # a new login each run


async def test_a_revoked_profile_stays_revoked(
    stack_env, admin_for_tests: VaultAdmin, tmp_path: Path
):
    name = f"boot-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / f"{name}.yaml").write_text(
        yaml.safe_dump({"name": name, "tools": {"test.stall": {}}})
    )
    code, out, err = await bootstrap(stack_env, "--profiles", str(folder))
    assert code == 0 and f"profiles        {name}" in out, err
    admin_for_tests.record_revocation("profile", name, "test", "tests")
    admin_for_tests.kill_profile_credentials(name)

    code, out, err = await bootstrap(stack_env, "--profiles", str(folder))
    assert code == 0, err
    assert f"left revoked    {name}" in out
    with pytest.raises(hvac.exceptions.InvalidPath):
        admin_for_tests.client.adapter.get(f"/v1/auth/token/roles/{token_role(name)}")


async def test_a_missing_or_empty_profiles_folder_is_refused(stack_env, tmp_path: Path):
    code, _, err = await bootstrap(stack_env, "--profiles", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err
    code, _, err = await bootstrap(stack_env, "--profiles", str(tmp_path))
    assert code == 2 and "holds no *.yaml profile" in err


def test_replacing_logins_destroys_the_earlier_secret_ids(stack: StackInfo, admin_for_tests):
    """`sealed dev` replaces its logins on every start (red team 15): a secret id
    from an earlier start does not stay valid for its whole TTL."""
    role = f"sealed-test-{uuid.uuid4().hex[:8]}"
    client = admin_for_tests.client
    earlier = [provision_approle(client, role, CODEC_POLICY, "1h") for _ in range(2)]
    for role_id, secret_id in earlier:  # kept without replace
        AppRoleClient(stack.vault_addr, role_id, secret_id).call("keys", read_vault_keys)
    role_id, secret_id = provision_approle(client, role, CODEC_POLICY, "1h", replace=True)
    AppRoleClient(stack.vault_addr, role_id, secret_id).call("keys", read_vault_keys)
    for old_role_id, old_secret_id in earlier:
        with pytest.raises(SecretUnavailable):
            AppRoleClient(stack.vault_addr, old_role_id, old_secret_id).call(
                "keys", read_vault_keys
            )


def test_the_stack_keeps_its_state_to_its_owner(stack: StackInfo):
    data = Path(stack.data_dir)
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "logs").stat().st_mode & 0o777 == 0o700
    for log in (data / "logs").glob("*.log"):
        assert log.stat().st_mode & 0o077 == 0, log
    for secret in ("vault-root-token", "vault-unseal-key", "codec-token", "tickets-token"):
        assert (data / secret).stat().st_mode & 0o777 == 0o600, secret
    for login in ("worker", "codec"):
        assert (data / f"{login}-secret-id").stat().st_mode & 0o777 == 0o600


def test_bootstrap_registers_the_approvers_it_is_given_once(admin_for_tests: VaultAdmin):
    """The dev stack hands bootstrap the demo approver's key on every start:
    registered the first time, left alone after, replaced when the key is."""
    name = f"approver-{uuid.uuid4().hex[:6]}"
    first, second = public_text(new_key()), public_text(new_key())
    report, _ = run_bootstrap(admin_for_tests, profiles=None, approvers={name: first})
    assert report.approvers_registered == [name]
    assert admin_for_tests.approver(name) == first
    report, _ = run_bootstrap(admin_for_tests, profiles=None, approvers={name: first})
    assert report.approvers_registered == []
    report, _ = run_bootstrap(admin_for_tests, profiles=None, approvers={name: second})
    assert report.approvers_registered == [name]
    assert admin_for_tests.approver(name) == second
    admin_for_tests.remove_approver(name)
