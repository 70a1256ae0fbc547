"""The credential broker with an in-memory backend: revocation whatever the
outcome, refusals before any backend call, and an audit trail with no values."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from sealed.audit import AuditLog
from sealed.identity.backend import Lease, SecretUnavailable
from sealed.identity.broker import CredentialBroker, CredentialRefused
from sealed.identity.profiles import Profile
from sealed.testing import DictBackend

PROFILE = Profile.model_validate(
    {
        "name": "p",
        "tools": {"t.two": {"secrets": ["a", "b"]}, "t.none": {}},
        "secrets": {
            "a": {"backend": "dict", "ref": "a"},
            "b": {"backend": "dict", "ref": "b"},
        },
    }
)
VALUES = {"a": "alpha-secret-value", "b": "beta-secret-value"}


def broker(tmp_path, backend: DictBackend) -> tuple[CredentialBroker, AuditLog]:
    audit = AuditLog(tmp_path / "audit.log")
    return CredentialBroker({"dict": backend}, audit), audit


def creds(b: CredentialBroker, tool: str = "t.two", secrets: tuple[str, ...] = ("a", "b")):
    return b.credentials(
        profile=PROFILE,
        tool=tool,
        secrets=secrets,
        mission_id="m",
        call_id="c",
        ttl=timedelta(minutes=1),
    )


async def test_every_credential_is_revoked_when_the_call_ends(tmp_path):
    backend = DictBackend(VALUES)
    b, audit = broker(tmp_path, backend)
    async with creds(b) as secrets:
        assert {k: v.reveal() for k, v in secrets.items()} == VALUES
        assert "alpha" not in repr(secrets)
    assert backend.revoked == list(reversed(backend.issued))
    kinds = [(e.kind, e.secret, e.outcome) for e in audit.events("m")]
    assert kinds[:2] == [("credential.issued", "a", "ok"), ("credential.issued", "b", "ok")]
    assert ("credential.used", "a", "ok") in kinds and ("credential.revoked", "a", "ok") in kinds
    audit.forbid_values(VALUES.values())
    assert audit.verify().ok


async def test_revoked_when_the_tool_fails_or_is_cancelled(tmp_path):
    backend = DictBackend(VALUES)
    b, audit = broker(tmp_path, backend)
    with pytest.raises(RuntimeError):
        async with creds(b):
            raise RuntimeError("tool crashed")
    assert len(backend.revoked) == 2

    async def cancelled_call() -> None:
        async with creds(b):
            await asyncio.sleep(60)

    task = asyncio.create_task(cancelled_call())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(backend.revoked) == 4
    used = [e.outcome for e in audit.events("m") if e.kind == "credential.used"]
    assert used == ["error", "error", "error", "error"]


async def test_ungranted_secret_is_refused_before_any_backend_call(tmp_path):
    backend = DictBackend(VALUES)
    b, audit = broker(tmp_path, backend)
    with pytest.raises(CredentialRefused, match=r"does not grant 't\.none' the secret\(s\): a"):
        async with creds(b, tool="t.none", secrets=("a",)):
            pytest.fail("must not run")
    assert backend.issued == []
    assert [(e.kind, e.outcome) for e in audit.events("m")] == [("credential.refused", "refused")]


async def test_a_backend_failure_fails_closed_and_revokes_what_was_issued(tmp_path):
    backend = DictBackend({"a": VALUES["a"]})  # "b" is missing at the backend
    b, audit = broker(tmp_path, backend)
    with pytest.raises(SecretUnavailable, match="'b'"):
        async with creds(b):
            pytest.fail("must not run")
    assert [lease.secret for lease in backend.revoked] == ["a"]
    assert "credential.refused" in [e.kind for e in audit.events("m")]


async def test_a_failed_revoke_is_audited_not_hidden(tmp_path):
    class StuckBackend(DictBackend):
        async def revoke(self, lease: Lease) -> None:
            raise SecretUnavailable("backend unreachable")

    b, audit = broker(tmp_path, StuckBackend(VALUES))
    async with creds(b, secrets=("a", "b")):
        pass
    revoked = [(e.outcome, e.reason) for e in audit.events("m") if e.kind == "credential.revoked"]
    assert revoked == [("error", "backend unreachable")] * 2
