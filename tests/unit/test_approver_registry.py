"""Where workers find approvers' public keys (sealed.approvals.registry): the
OpenBao-backed registry over a stand-in login (cached briefly, a missing name
never cached, failing closed), the in-memory one for tests, the path and the
worker policies that let every worker read it. Against the real OpenBao:
tests/integration/test_approver_registry.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hvac.exceptions
import pytest

from sealed.approvals.keys import new_key, public_text
from sealed.approvals.registry import ApproverKeys, ApproverUnknown
from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.admin import shared_worker_policy, worker_policy
from sealed.identity.openbao.kv import approver_path
from sealed.identity.openbao.stores import VaultApproverKeys
from sealed.identity.profiles import token_role
from sealed.testing import StaticApproverKeys

ALICE, BOB = public_text(new_key()), public_text(new_key())


class FakeLogin:
    """An AppRoleClient whose reads answer from a dict of KV paths."""

    def __init__(self, data: dict[str, dict[str, Any]]) -> None:
        self.data = data
        self.reads: list[str] = []
        self.down = False

    async def acall(self, what: str, fn: Callable[[Any], Any]) -> Any:
        if self.down:
            raise SecretUnavailable(f"{what}: backend unreachable")
        return fn(self)

    # read_kv(client, path) calls client.secrets.kv.v2.read_secret_version
    @property
    def secrets(self) -> Any:
        return self

    @property
    def kv(self) -> Any:
        return self

    @property
    def v2(self) -> Any:
        return self

    def read_secret_version(self, path: str, **_: Any) -> dict[str, Any]:
        self.reads.append(path)
        if path not in self.data:
            raise hvac.exceptions.InvalidPath()
        return {"data": {"data": self.data[path], "metadata": {"version": 1}}}


def registry(login: FakeLogin, ttl: float = 60.0) -> VaultApproverKeys:
    return VaultApproverKeys(login, ttl=ttl)  # type: ignore[arg-type]


def test_the_approver_path():
    assert approver_path("alice@example.com") == "sealed/approvers/alice@example.com"
    for trick in ("../profiles/x", "a/b", "", ".hidden", "x y"):
        with pytest.raises(ValueError, match="invalid approver name"):
            approver_path(trick)


async def test_registered_keys_are_read_and_cached():
    login = FakeLogin(
        {approver_path("alice"): {"public_key": ALICE}, approver_path("bob"): {"public_key": BOB}}
    )
    keys = registry(login)
    assert await keys.public_keys(["alice", "bob", "alice"]) == {"alice": ALICE, "bob": BOB}
    assert await keys.public_keys(["bob"]) == {"bob": BOB}
    assert login.reads == [approver_path("alice"), approver_path("bob")]
    # Past the TTL, a removed key is gone.
    expired = registry(login, ttl=0)
    await expired.public_keys(["alice"])
    del login.data[approver_path("alice")]
    with pytest.raises(ApproverUnknown, match="'alice' has no registered key"):
        await expired.public_keys(["alice"])


async def test_a_missing_name_is_asked_again_every_time():
    login = FakeLogin({})
    keys = registry(login)
    with pytest.raises(ApproverUnknown):
        await keys.public_keys(["carol"])
    login.data[approver_path("carol")] = {"public_key": ALICE}
    assert await keys.public_keys(["carol"]) == {"carol": ALICE}


@pytest.mark.parametrize(
    "document", [{}, {"public_key": "ssh-ed25519 AAAA"}, {"public_key": 5}, {"other": ALICE}]
)
async def test_a_stored_document_without_a_valid_key(document):
    keys = registry(FakeLogin({approver_path("dave"): document}))
    with pytest.raises(ApproverUnknown, match="the registered key is invalid"):
        await keys.public_keys(["dave"])


async def test_a_name_that_is_no_path_is_unknown():
    login = FakeLogin({})
    with pytest.raises(ApproverUnknown, match="not an approver name"):
        await registry(login).public_keys(["../profiles/tester"])
    assert login.reads == []


async def test_an_unreachable_registry_fails_closed():
    login = FakeLogin({approver_path("alice"): {"public_key": ALICE}})
    login.down = True
    with pytest.raises(SecretUnavailable, match="unreachable"):
        await registry(login).public_keys(["alice"])


async def test_the_static_registry():
    keys: ApproverKeys = StaticApproverKeys({"alice": ALICE})
    assert await keys.public_keys(["alice"]) == {"alice": ALICE}
    with pytest.raises(ApproverUnknown, match="'bob'"):
        await keys.public_keys(["alice", "bob"])
    with pytest.raises(SecretUnavailable):
        await StaticApproverKeys({"alice": ALICE}, unavailable=True).public_keys(["alice"])


def test_every_worker_may_read_the_approvers_and_none_may_write():
    rule = 'path "secret/data/sealed/approvers/*" { capabilities = ["read"] }'
    for policy in (shared_worker_policy([]), shared_worker_policy(["alpha"])):
        assert rule in policy.splitlines()
    assert rule in worker_policy([token_role("alpha")]).splitlines()
    assert sum("sealed/approvers" in line for line in shared_worker_policy([]).splitlines()) == 1
