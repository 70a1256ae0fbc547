"""Sealed IV's key registry against the session stack's real OpenBao: the
operator registers an approver's public key, every worker reads it with its
own AppRole (and may not write one), an unregistered name cannot approve."""

from __future__ import annotations

import uuid
from pathlib import Path

import hvac.exceptions
import pytest

from sealed.approvals.keys import new_key, public_text
from sealed.approvals.registry import ApproverUnknown
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.admin import ApproverExists, VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.kv import KV_MOUNT, approver_path
from sealed.identity.openbao.stores import VaultApproverKeys

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker_login(stack_settings: Settings) -> AppRoleClient:
    return AppRoleClient(stack_settings.vault_addr, *stack_settings.worker_approle())


def name() -> str:
    return f"approver-{uuid.uuid4().hex[:8]}@example.com"


async def test_a_registered_key_is_read_by_the_worker(
    admin_for_tests: VaultAdmin, worker_login: AppRoleClient
):
    alice, bob = name(), name()
    alice_key, bob_key = public_text(new_key()), public_text(new_key())
    assert admin_for_tests.register_approver(alice, alice_key)
    assert admin_for_tests.register_approver(bob, bob_key)
    assert not admin_for_tests.register_approver(alice, alice_key)  # already so
    assert admin_for_tests.approver(alice) == alice_key
    assert admin_for_tests.approvers()[bob] == bob_key

    keys = VaultApproverKeys(worker_login)
    assert await keys.public_keys([alice, bob, alice]) == {alice: alice_key, bob: bob_key}


async def test_an_unregistered_name_cannot_approve(
    admin_for_tests: VaultAdmin, worker_login: AppRoleClient
):
    keys = VaultApproverKeys(worker_login)
    nobody = name()
    with pytest.raises(ApproverUnknown, match=f"'{nobody}' has no registered key"):
        await keys.public_keys([nobody])
    assert admin_for_tests.approver(nobody) is None
    # An unknown name is asked again: registering takes effect at once.
    key = public_text(new_key())
    admin_for_tests.register_approver(nobody, key)
    assert await keys.public_keys([nobody]) == {nobody: key}
    with pytest.raises(ApproverUnknown, match="not an approver name"):
        await keys.public_keys(["../profiles/tester"])


async def test_a_key_is_replaced_or_removed_only_on_purpose(
    admin_for_tests: VaultAdmin, worker_login: AppRoleClient
):
    carol = name()
    first, second = public_text(new_key()), public_text(new_key())
    admin_for_tests.register_approver(carol, first)
    with pytest.raises(ApproverExists, match="another key"):
        admin_for_tests.register_approver(carol, second)
    assert admin_for_tests.approver(carol) == first
    assert admin_for_tests.register_approver(carol, second, replace=True)
    keys = VaultApproverKeys(worker_login, ttl=0)
    assert await keys.public_keys([carol]) == {carol: second}
    assert admin_for_tests.remove_approver(carol)
    assert not admin_for_tests.remove_approver(carol)
    with pytest.raises(ApproverUnknown):
        await keys.public_keys([carol])


async def test_a_stored_document_without_a_key_is_no_key(
    admin_for_tests: VaultAdmin, worker_login: AppRoleClient
):
    dave = name()
    admin_for_tests.client.secrets.kv.v2.create_or_update_secret(
        path=approver_path(dave), secret={"public_key": "ssh-ed25519 AAAA"}, mount_point=KV_MOUNT
    )
    with pytest.raises(ApproverUnknown, match="the registered key is invalid"):
        await VaultApproverKeys(worker_login).public_keys([dave])
    assert admin_for_tests.approvers()[dave] == "ssh-ed25519 AAAA"  # listed, for the operator


def test_the_operator_registers_only_a_public_key(admin_for_tests: VaultAdmin):
    with pytest.raises(ValueError, match="ed25519:<base64>"):
        admin_for_tests.register_approver(name(), "-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValueError, match="invalid approver name"):
        admin_for_tests.register_approver("x/../y", public_text(new_key()))


def test_a_worker_may_not_register_an_approver(
    worker_login: AppRoleClient, admin_for_tests: VaultAdmin
):
    mallory = name()
    with pytest.raises(SecretUnavailable, match="permission denied"):
        worker_login.call(
            "register",
            lambda c: c.secrets.kv.v2.create_or_update_secret(
                path=approver_path(mallory),
                secret={"public_key": public_text(new_key())},
                mount_point=KV_MOUNT,
            ),
        )
    assert admin_for_tests.approver(mallory) is None


def test_the_codec_login_may_not_read_approvers(stack: StackInfo, admin_for_tests: VaultAdmin):
    erin = name()
    admin_for_tests.register_approver(erin, public_text(new_key()))
    data_dir = Path(stack.data_dir)
    codec = hvac.Client(url=stack.vault_addr, token="")
    codec.auth.approle.login(
        role_id=(data_dir / "codec-role-id").read_text().strip(),
        secret_id=(data_dir / "codec-secret-id").read_text().strip(),
    )
    with pytest.raises(hvac.exceptions.Forbidden):
        codec.secrets.kv.v2.read_secret_version(
            path=approver_path(erin), mount_point=KV_MOUNT, raise_on_deleted_version=True
        )
