"""AgentCore Identity backends against botocore Stubbers on both real service
models (`bedrock-agentcore-control`, `bedrock-agentcore`): request shapes are
validated by botocore, responses are shaped per the model. The workload access
token can fetch secrets, so every path checks it leaks nowhere."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from sealed.identity.agentcore import (
    AgentCoreApiKey,
    AgentCoreIdentity,
    AgentCoreOAuth2,
    ConsentRequired,
)
from sealed.identity.backend import (
    CredentialRequest,
    NotRenewable,
    SecretSpec,
    SecretUnavailable,
    SecretValue,
)

WORKLOAD = "sealed-missions"
TOKEN = "wat-EXAMPLE-workload-access-token-0123456789"
API_KEY = "ak-live-EXAMPLE-0123456789"
ACCESS_TOKEN = "oauth-EXAMPLE-access-token-0123456789"
CONSENT_URL = "https://bedrock-agentcore.us-east-1.amazonaws.com/identities/oauth2/authorize?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"
SESSION_URI = "urn:ietf:params:oauth:request_uri:abc-123"
ARN = "arn:aws:acps:us-east-1:123456789012:token-vault/default"


def client(service: str, **kwargs: Any) -> Any:
    make: Any = boto3.client  # the stubs' per-service overloads want a literal name
    return make(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )


@pytest.fixture
def stubs() -> Iterator[dict[str, Any]]:
    clients = {s: client(s) for s in ("bedrock-agentcore-control", "bedrock-agentcore")}
    stubbers = {s: Stubber(c) for s, c in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield {"factory": clients.__getitem__, **stubbers}
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def request(backend: str, ref: str, **options: Any) -> CredentialRequest:
    return CredentialRequest(
        mission_id="m-42",
        profile="triage",
        tool="crm_lookup",
        call_id="call-7",
        secret="crm",
        spec=SecretSpec(backend=backend, ref=ref, options={"workload": WORKLOAD, **options}),
    )


def expect_workload_token(stubs: dict[str, Any], **extra: str) -> None:
    op = "get_workload_access_token" + ("_for_user_id" if "userId" in extra else "")
    stubs["bedrock-agentcore"].add_response(
        op, {"workloadAccessToken": TOKEN}, {"workloadName": WORKLOAD, **extra}
    )


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text


def full_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


# -- provisioning ---------------------------------------------------------------


def test_provision_workload_identity(stubs):
    stubs["bedrock-agentcore-control"].add_response(
        "create_workload_identity",
        {"name": WORKLOAD, "workloadIdentityArn": f"{ARN}/workloadidentity/{WORKLOAD}"},
        {"name": WORKLOAD, "allowedResourceOauth2ReturnUrls": ["https://sealed.example/cb"]},
    )
    arn = AgentCoreIdentity(stubs["factory"]).provision(WORKLOAD, ["https://sealed.example/cb"])
    assert arn.endswith(f"workloadidentity/{WORKLOAD}")


def test_create_api_key_provider(stubs):
    stubs["bedrock-agentcore-control"].add_response(
        "create_api_key_credential_provider",
        {
            "apiKeySecretArn": {
                "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:crm-Ab12Cd"
            },
            "name": "crm-api",
            "credentialProviderArn": f"{ARN}/apikeycredentialprovider/crm-api",
        },
        {"name": "crm-api", "apiKey": API_KEY},
    )
    arn = AgentCoreIdentity(stubs["factory"]).create_api_key_provider(
        "crm-api", SecretValue("crm", API_KEY)
    )
    assert arn.endswith("apikeycredentialprovider/crm-api")


def test_provisioning_error_names_the_provider_not_the_key(stubs):
    stubs["bedrock-agentcore-control"].add_client_error(
        "create_api_key_credential_provider",
        service_error_code="ConflictException",
        service_message="provider exists",
        http_status_code=409,
    )
    with pytest.raises(SecretUnavailable, match=r"'crm-api'.*ConflictException") as exc:
        AgentCoreIdentity(stubs["factory"]).create_api_key_provider(
            "crm-api", SecretValue("crm", API_KEY)
        )
    assert API_KEY not in full_traceback(exc.value)


# -- API keys -------------------------------------------------------------------


async def test_api_key_issue(stubs):
    expect_workload_token(stubs)
    stubs["bedrock-agentcore"].add_response(
        "get_resource_api_key",
        {"apiKey": API_KEY},
        {"workloadIdentityToken": TOKEN, "resourceCredentialProviderName": "crm-api"},
    )
    backend = AgentCoreApiKey(stubs["factory"])

    credential = await backend.issue(request("agentcore-api-key", "crm-api"))

    assert credential.value.reveal() == API_KEY
    assert credential.lease.backend == "agentcore-api-key"
    assert credential.lease.lease_id == f"{WORKLOAD}/crm-api/m-42/call-7"
    lease_json = credential.lease.model_dump_json()
    assert API_KEY not in lease_json and API_KEY not in repr(credential)
    assert_no_token(lease_json, repr(credential), str(credential))
    await backend.revoke(credential.lease)  # documented no-op
    with pytest.raises(NotRenewable):
        await backend.renew(credential.lease, timedelta(minutes=5))


async def test_api_key_for_a_user_uses_the_user_bound_token(stubs):
    expect_workload_token(stubs, userId="user-9")
    stubs["bedrock-agentcore"].add_response(
        "get_resource_api_key",
        {"apiKey": API_KEY},
        {"workloadIdentityToken": TOKEN, "resourceCredentialProviderName": "crm-api"},
    )
    credential = await AgentCoreApiKey(stubs["factory"]).issue(
        request("agentcore-api-key", "crm-api", user_id="user-9")
    )
    assert credential.value.reveal() == API_KEY


async def test_workload_from_the_backend_default(stubs):
    expect_workload_token(stubs)
    stubs["bedrock-agentcore"].add_response(
        "get_resource_api_key",
        {"apiKey": API_KEY},
        {"workloadIdentityToken": TOKEN, "resourceCredentialProviderName": "crm-api"},
    )
    spec = SecretSpec(backend="agentcore-api-key", ref="crm-api")
    req = request("agentcore-api-key", "crm-api").model_copy(update={"spec": spec})
    credential = await AgentCoreApiKey(stubs["factory"], workload=WORKLOAD).issue(req)
    assert credential.lease.lease_id.startswith(f"{WORKLOAD}/")


async def test_no_workload_fails_closed_without_calling(stubs):
    spec = SecretSpec(backend="agentcore-api-key", ref="crm-api")
    req = request("agentcore-api-key", "crm-api").model_copy(update={"spec": spec})
    with pytest.raises(SecretUnavailable, match="no workload identity"):
        await AgentCoreApiKey(stubs["factory"]).issue(req)


async def test_resource_error_fails_closed_without_the_token(stubs):
    expect_workload_token(stubs)
    stubs["bedrock-agentcore"].add_client_error(
        "get_resource_api_key",
        service_error_code="AccessDeniedException",
        service_message=f"token {TOKEN} may not read crm-api",  # a server echoing the request
        http_status_code=403,
    )
    with pytest.raises(SecretUnavailable, match=r"'crm'.*AccessDeniedException") as exc:
        await AgentCoreApiKey(stubs["factory"]).issue(request("agentcore-api-key", "crm-api"))
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
    assert_no_token(str(exc.value), repr(exc.value), full_traceback(exc.value))


async def test_workload_token_error_fails_closed(stubs):
    stubs["bedrock-agentcore"].add_client_error(
        "get_workload_access_token",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
    )
    with pytest.raises(SecretUnavailable, match="ResourceNotFoundException"):
        await AgentCoreApiKey(stubs["factory"]).issue(request("agentcore-api-key", "crm-api"))


async def test_unreachable_backend_fails_closed():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fast = Config(connect_timeout=1, retries={"total_max_attempts": 1})
    dead = client("bedrock-agentcore", endpoint_url=f"http://127.0.0.1:{port}", config=fast)
    with pytest.raises(SecretUnavailable, match="unreachable"):
        await AgentCoreApiKey(lambda _: dead).issue(request("agentcore-api-key", "crm-api"))


# -- OAuth2 ---------------------------------------------------------------------


async def test_oauth2_m2m_issue(stubs):
    expect_workload_token(stubs)
    stubs["bedrock-agentcore"].add_response(
        "get_resource_oauth2_token",
        {"accessToken": ACCESS_TOKEN},
        {
            "workloadIdentityToken": TOKEN,
            "resourceCredentialProviderName": "crm-oauth",
            "scopes": ["crm.read"],
            "oauth2Flow": "M2M",
        },
    )
    credential = await AgentCoreOAuth2(stubs["factory"]).issue(
        request("agentcore-oauth2", "crm-oauth", scopes=["crm.read"])
    )
    assert credential.value.reveal() == ACCESS_TOKEN
    assert credential.lease.backend == "agentcore-oauth2"
    assert credential.lease.lease_id == f"{WORKLOAD}/crm-oauth/m-42/call-7"
    assert ACCESS_TOKEN not in credential.lease.model_dump_json()
    assert_no_token(credential.lease.model_dump_json(), repr(credential))


async def test_oauth2_user_consent_needed(stubs):
    expect_workload_token(stubs, userId="user-9")
    stubs["bedrock-agentcore"].add_response(
        "get_resource_oauth2_token",
        {"authorizationUrl": CONSENT_URL, "sessionUri": SESSION_URI},
        {
            "workloadIdentityToken": TOKEN,
            "resourceCredentialProviderName": "crm-oauth",
            "scopes": [],
            "oauth2Flow": "USER_FEDERATION",
            "resourceOauth2ReturnUrl": "https://sealed.example/cb",
        },
    )
    with pytest.raises(ConsentRequired, match="needs user consent") as exc:
        await AgentCoreOAuth2(stubs["factory"]).issue(
            request(
                "agentcore-oauth2",
                "crm-oauth",
                flow="USER_FEDERATION",
                user_id="user-9",
                return_url="https://sealed.example/cb",
            )
        )
    assert isinstance(exc.value, SecretUnavailable)  # the tool does not run
    assert exc.value.authorization_url.reveal() == CONSENT_URL
    assert exc.value.session_uri == SESSION_URI
    # The service model marks the URL sensitive: it travels on the exception, not in text.
    assert CONSENT_URL not in str(exc.value) and CONSENT_URL not in repr(exc.value)
    assert_no_token(str(exc.value), full_traceback(exc.value))


async def test_oauth2_failed_session_fails_closed(stubs):
    expect_workload_token(stubs)
    stubs["bedrock-agentcore"].add_response(
        "get_resource_oauth2_token", {"sessionStatus": "FAILED"}
    )
    with pytest.raises(SecretUnavailable, match=r"no access token \(FAILED\)") as exc:
        await AgentCoreOAuth2(stubs["factory"]).issue(request("agentcore-oauth2", "crm-oauth"))
    assert not isinstance(exc.value, ConsentRequired)
    assert_no_token(str(exc.value), full_traceback(exc.value))
