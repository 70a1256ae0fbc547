"""AWS Bedrock AgentCore Identity over boto3: API keys and OAuth2 tokens from
AgentCore's token vault, fetched per tool call under a workload identity.

Per call: `bedrock-agentcore` GetWorkloadAccessToken (the workload's token),
then GetResourceApiKey / GetResourceOauth2Token with it. That workload access
token can fetch secrets itself, so it lives only in a local variable of `issue`:
never in a Lease, a log line or an exception message. For the same reason the
botocore errors of these calls are not chained (`from None`): the request
carries the token, and Temporal serialises an exception's cause chain into
workflow history.

Provisioning (`AgentCoreIdentity`, control plane `bedrock-agentcore-control`)
happens once, from the CLI or the dev stack, never per call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sealed.identity.aws import ClientFactory, _Clients
from sealed.identity.backend import (
    Credential,
    CredentialRequest,
    Lease,
    NotRenewable,
    SecretUnavailable,
    SecretValue,
)

CONTROL = "bedrock-agentcore-control"
DATA = "bedrock-agentcore"


class ConsentRequired(SecretUnavailable):
    """The OAuth2 provider needs the user to consent first (3-legged flow).
    The authorization URL is on `authorization_url`, not in the message: the
    service model marks it sensitive (it carries the consent session), so it is
    routed to the user, not into logs or workflow history."""

    def __init__(self, message: str, authorization_url: SecretValue, session_uri: str | None):
        super().__init__(message)
        self.authorization_url = authorization_url
        self.session_uri = session_uri


def _reason(exc: Exception) -> str:
    # Only the error code: the request held a token, and botocore's parameter
    # validation messages can quote the parameters they reject.
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return f"backend unreachable or refused ({type(exc).__name__})"


def _sync_call(what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise SecretUnavailable(f"{what}: {_reason(exc)}") from None


class AgentCoreIdentity:
    """Provisioning: workload identities and credential providers."""

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        self._clients = _Clients(client_factory)

    def provision(self, workload_name: str, allowed_return_urls: list[str] | None = None) -> str:
        """Create the workload identity missions run under; returns its ARN.
        `allowed_return_urls`: OAuth2 callback URLs the 3-legged flow may use."""
        kwargs: dict[str, Any] = {"name": workload_name}
        if allowed_return_urls:
            kwargs["allowedResourceOauth2ReturnUrls"] = list(allowed_return_urls)
        response = _sync_call(
            f"creating workload identity {workload_name!r}",
            self._clients(CONTROL).create_workload_identity,
            **kwargs,
        )
        return str(response["workloadIdentityArn"])

    def create_api_key_provider(self, name: str, api_key: SecretValue) -> str:
        """Store an API key in AgentCore's token vault behind a credential
        provider; returns the provider's ARN. Missions then name the provider,
        never the key."""
        response = _sync_call(
            f"creating API key provider {name!r}",
            self._clients(CONTROL).create_api_key_credential_provider,
            name=name,
            apiKey=api_key.reveal(),
        )
        return str(response["credentialProviderArn"])


class _AgentCoreBackend:
    name = "agentcore"

    def __init__(
        self, client_factory: ClientFactory | None = None, *, workload: str | None = None
    ) -> None:
        self._clients = _Clients(client_factory)
        self._workload = workload

    async def issue(self, request: CredentialRequest) -> Credential:
        workload = request.spec.options.get("workload", self._workload)
        provider = request.spec.ref
        what = f"secret {request.secret!r} ({self.name} provider {provider!r})"
        if not workload:
            raise SecretUnavailable(f"{what}: no workload identity configured")
        value = await asyncio.to_thread(self._fetch, str(workload), request, what)
        lease = Lease(
            backend=self.name,
            secret=request.secret,
            lease_id=f"{workload}/{provider}/{request.mission_id}/{request.call_id}",
        )
        return Credential(value=SecretValue(request.secret, value), lease=lease)

    def _fetch(self, workload: str, request: CredentialRequest, what: str) -> str:
        data = self._clients(DATA)
        # `user_id` binds the token to an end user (needed for USER_FEDERATION,
        # whose tokens AgentCore stores per user); otherwise the workload's own.
        user_id = request.spec.options.get("user_id")
        if user_id:
            response = _sync_call(
                what,
                data.get_workload_access_token_for_user_id,
                workloadName=workload,
                userId=str(user_id),
            )
        else:
            response = _sync_call(what, data.get_workload_access_token, workloadName=workload)
        return self._resource(data, response["workloadAccessToken"], request, what)

    def _resource(self, data: Any, token: str, request: CredentialRequest, what: str) -> str:
        raise NotImplementedError

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        raise NotRenewable(f"{lease.backend} lease {lease.lease_id!r}: issue a new one")

    async def revoke(self, lease: Lease) -> None:
        """A no-op, by necessity: AgentCore Identity has no API to revoke one
        workload access token or one fetched key/token. The workload token is
        short-lived and was never stored; the resource credential is dropped
        with the activity attempt. To cut access, delete or rotate the
        credential provider, or remove the workload identity."""
        return None


class AgentCoreApiKey(_AgentCoreBackend):
    """`SecretSpec(backend="agentcore-api-key", ref=<API key credential provider>,
    options={"workload": <workload identity>, "user_id": ...})`."""

    name = "agentcore-api-key"

    def _resource(self, data: Any, token: str, request: CredentialRequest, what: str) -> str:
        response = _sync_call(
            what,
            data.get_resource_api_key,
            workloadIdentityToken=token,
            resourceCredentialProviderName=request.spec.ref,
        )
        return str(response["apiKey"])


class AgentCoreOAuth2(_AgentCoreBackend):
    """`SecretSpec(backend="agentcore-oauth2", ref=<OAuth2 credential provider>,
    options={"workload": ..., "scopes": [...], "flow": "M2M" | "USER_FEDERATION",
    "user_id": ..., "return_url": ...})`: an access token for the resource."""

    name = "agentcore-oauth2"

    def _resource(self, data: Any, token: str, request: CredentialRequest, what: str) -> str:
        options = request.spec.options
        kwargs: dict[str, Any] = {
            "workloadIdentityToken": token,
            "resourceCredentialProviderName": request.spec.ref,
            "scopes": list(options.get("scopes", [])),
            "oauth2Flow": options.get("flow", "M2M"),
        }
        if options.get("return_url"):
            kwargs["resourceOauth2ReturnUrl"] = options["return_url"]
        response = _sync_call(what, data.get_resource_oauth2_token, **kwargs)
        if response.get("accessToken"):
            return str(response["accessToken"])
        if response.get("authorizationUrl"):
            raise ConsentRequired(
                f"{what}: needs user consent: the authorization URL is delivered to the "
                "user separately; retry the call once they have consented",
                SecretValue(f"{request.secret} authorization URL", response["authorizationUrl"]),
                response.get("sessionUri"),
            )
        status = response.get("sessionStatus", "no token")
        raise SecretUnavailable(f"{what}: no access token ({status})")
