"""Sealed I: a mission's identity is verifiable. OpenBao signs a short-lived
JWT whose spiffe_id names profile and mission; the ticket service checks it
against OpenBao's published keys and writes only for allowed profiles."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import jwt
import pytest

from sealed.devstack import StackInfo
from sealed.identity.backend import CredentialRequest, SecretSpec, SecretUnavailable
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.credentials import VaultBackend
from sealed.identity.profiles import Profile
from sealed.identity.workload import IdentityVerifier, InvalidIdentity
from sealed.tools.ticket_service import IDENTITY_HEADER
from tests.integration.conftest import tickets_token

IDENTITY = SecretSpec(backend="vault-identity", ref="sealed-mission")


def request(profile: str, mission: str) -> CredentialRequest:
    return CredentialRequest(
        mission_id=mission,
        profile=profile,
        tool="tickets.comment",
        call_id="call-1-0",
        secret="mission_identity",
        spec=IDENTITY,
        ttl=timedelta(minutes=1),
    )


@pytest.fixture(scope="module")
def backend(stack_settings) -> VaultBackend:
    return VaultBackend(AppRoleClient(stack_settings.vault_addr, *stack_settings.worker_approle()))


async def test_the_identity_token_names_profile_and_mission(stack: StackInfo, backend):
    credential = await backend.issue(request("tester", "m-ident"))
    token = credential.value.reveal()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["spiffe_id"] == "spiffe://sealed/profile/tester/mission/m-ident"
    assert claims["aud"] == "sealed-services" and claims["exp"] - claims["iat"] <= 300

    verifier = IdentityVerifier(f"{stack.vault_addr}/v1/identity/oidc", {"tester"})
    identity = verifier.verify(token)
    assert (identity.profile, identity.mission_id) == ("tester", "m-ident")
    with pytest.raises(InvalidIdentity, match="may not write"):
        IdentityVerifier(f"{stack.vault_addr}/v1/identity/oidc", {"other"}).verify(token)
    forged = jwt.encode(dict(claims), "an attacker key of thirty-two bytes!", algorithm="HS256")
    with pytest.raises(InvalidIdentity):
        verifier.verify(forged)
    await backend.revoke(credential.lease)


async def test_a_profile_cannot_mint_another_profiles_identity(
    stack: StackInfo, stack_settings, backend
):
    """The token role allows only its own profile's SPIFFE ids as entity aliases."""
    worker = AppRoleClient(stack_settings.vault_addr, *stack_settings.worker_approle())

    def mint(alias: str) -> dict[str, object]:
        return worker.call(
            "mint",
            lambda c: c.auth.token.create(
                role_name="sealed-p-tester",
                policies=["sealed-p-tester-t-tickets-comment"],
                ttl="60s",
                entity_alias=alias,
            ),
        )

    assert mint("spiffe://sealed/profile/tester/mission/x")["auth"]
    with pytest.raises(SecretUnavailable, match="refused"):
        mint("spiffe://sealed/profile/support-agent/mission/x")


async def test_ticket_service_writes_only_for_a_verified_allowed_identity(
    stack: StackInfo, admin_for_tests: VaultAdmin, backend
):
    bearer = {"Authorization": f"Bearer {tickets_token(stack)}"}
    url = f"{stack.tickets_url}/tickets/4/comments"
    name = f"outsider-{uuid.uuid4().hex[:6]}"
    admin_for_tests.apply_profile(
        Profile.model_validate(
            {
                "name": name,
                "tools": {"tickets.comment": {"secrets": ["mission_identity"]}},
                "secrets": {"mission_identity": IDENTITY.model_dump()},
            }
        )
    )
    outsider = (await backend.issue(request(name, "m-out"))).value.reveal()
    allowed = (await backend.issue(request("tester", "m-in"))).value.reveal()
    async with httpx.AsyncClient() as http:
        no_identity = await http.post(url, json={"body": "x"}, headers=bearer)
        wrong_profile = await http.post(
            url, json={"body": "x"}, headers={**bearer, IDENTITY_HEADER: outsider}
        )
        good = await http.post(
            url, json={"body": "verified"}, headers={**bearer, IDENTITY_HEADER: allowed}
        )
        stolen_identity_alone = await http.post(
            url, json={"body": "x"}, headers={IDENTITY_HEADER: allowed}
        )
    assert no_identity.status_code == 403
    assert wrong_profile.status_code == 403 and "may not write" in wrong_profile.json()["error"]
    assert good.status_code == 201
    assert good.json()["author"] == "spiffe://sealed/profile/tester/mission/m-in"
    assert stolen_identity_alone.status_code == 401
