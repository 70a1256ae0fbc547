"""AWS backends over boto3: Secrets Manager (static values read at the moment of
need) and STS (a role session minted for one tool call, scoped by a session
policy and tagged with the mission, profile and tool).

boto3 is synchronous, so every call runs in a worker thread. Clients come from
an injected factory (service name -> client) so tests can point them at a moto
server or wrap them in a botocore Stubber; the default builds clients from the
standard credential chain with short timeouts, because a hung backend must fail
the call (closed), not stall the activity."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sealed.identity.backend import (
    Credential,
    CredentialRequest,
    Lease,
    NotRenewable,
    SecretUnavailable,
    SecretValue,
)

ClientFactory = Callable[[str], Any]
"""service name ("sts", "iam", ...) -> a boto3 client for it."""

_DEFAULT_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}
)

STS_DURATION_SECONDS = 900  # the shortest session AWS allows
SESSION_POLICY_MAX_CHARS = 2048  # AWS's plaintext limit for an inline session policy
REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"  # the name the IAM console uses
MISSION_DENY_POLICY_NAME = "SealedRevokedMissions"
MISSION_DENIES = 100
_MISSION_TAG = "aws:PrincipalTag/sealed:mission"

# Deny everything: a call whose profile declares no policy gets a session that
# can do nothing (least privilege by default, the profile must say what it needs).
DENY_ALL_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
}


def default_client_factory(
    session: boto3.session.Session | None = None, **client_kwargs: Any
) -> ClientFactory:
    """A factory over one boto3 session. Sessions are not thread-safe but clients
    are, so `_Clients` builds each client once, under a lock, and shares it."""
    boto_session = session or boto3.session.Session()
    client_kwargs.setdefault("config", _DEFAULT_CONFIG)

    def make(service: str) -> Any:
        return boto_session.client(service, **client_kwargs)  # type: ignore[call-overload]

    return make


def aws_client_factory(region: str, endpoint_url: str | None = None) -> ClientFactory:
    """The factory workers and operators use: the standard credential chain (an
    instance or task role), in `region`, at `endpoint_url` when set (moto)."""
    return default_client_factory(
        boto3.session.Session(region_name=region), endpoint_url=endpoint_url
    )


class _Clients:
    """One client per service, built on first use (building loads the service
    model, which is slow and would be wasted for unused services)."""

    def __init__(self, factory: ClientFactory | None) -> None:
        self._factory = factory or default_client_factory()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._factory(service)
            return self._clients[service]


def _unavailable(what: str, exc: Exception) -> SecretUnavailable:
    """Name the secret and the AWS error, never a value. These requests carry no
    secret, so AWS's own error text is safe to keep (and says why it refused)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    else:
        reason = f"backend unreachable or refused ({type(exc).__name__})"
    return SecretUnavailable(f"{what}: {reason}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


async def _call(what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(what, exc) from exc


class AwsSecretsManager:
    """`SecretSpec(backend="aws-secrets-manager", ref=<secret id or ARN>,
    options={"key": <JSON field>})`: the current version's SecretString, or one
    field of it when the secret holds a JSON object."""

    name = "aws-secrets-manager"

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        self._clients = _Clients(client_factory)

    async def issue(self, request: CredentialRequest) -> Credential:
        ref, key = request.spec.ref, request.spec.options.get("key")
        what = f"secret {request.secret!r} ({self.name} {ref!r})"
        response = await _call(what, self._clients("secretsmanager").get_secret_value, SecretId=ref)
        raw = response.get("SecretString")
        if raw is None:
            raise SecretUnavailable(f"{what}: binary secrets are not supported")
        value = raw if key is None else _json_field(raw, str(key), what)
        lease = Lease(
            backend=self.name,
            secret=request.secret,
            lease_id=f"{ref}@{response.get('VersionId', 'unknown')}",
        )
        return Credential(value=SecretValue(request.secret, value), lease=lease)

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        raise NotRenewable(f"{lease.backend} lease {lease.lease_id!r} is a static value")

    async def revoke(self, lease: Lease) -> None:
        """Nothing to do at the backend. The value is static and shared: its
        lifetime for us is the tool call (it is dropped with the activity
        attempt), and there is nothing per-call to revoke at AWS. If it may have
        leaked, the remedy is rotating the secret, not revoking a lease."""
        return None


def _json_field(raw: str, key: str, what: str) -> str:
    # Errors name the key, never the document: a JSON error message quotes it.
    try:
        document = json.loads(raw)
    except json.JSONDecodeError:
        raise SecretUnavailable(f"{what}: value is not a JSON object") from None
    if not isinstance(document, dict) or key not in document:
        raise SecretUnavailable(f"{what}: no key {key!r} in the secret")
    field = document[key]
    return field if isinstance(field, str) else json.dumps(field)


_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]")
_TAG_VALUE_BAD = re.compile(r"[^\w .:/=+@-]")


def session_name(mission_id: str, call_id: str) -> str:
    """`sealed-<mission>-<call>` in STS's RoleSessionName alphabet, at most 64
    chars. It shows in CloudTrail and in the assumed-role ARN, so it is how a
    session is traced back to its mission."""
    return _SESSION_NAME_BAD.sub("_", f"sealed-{mission_id}-{call_id}")[:64]


def session_policy(policy: Any) -> str:
    """The call's session policy as compact JSON. Accepts a full policy document
    (dict with "Statement"), one statement (dict), a list of statements, or a
    JSON string of any of those; None means deny-all."""
    if policy is None:
        document: dict[str, Any] = DENY_ALL_POLICY
    else:
        if isinstance(policy, str):
            policy = json.loads(policy)
        if isinstance(policy, list):
            document = {"Version": "2012-10-17", "Statement": policy}
        elif isinstance(policy, dict) and "Statement" in policy:
            document = {"Version": "2012-10-17", **policy}
        elif isinstance(policy, dict):
            document = {"Version": "2012-10-17", "Statement": [policy]}
        else:
            raise ValueError(f"session policy must be a dict or a list, not {type(policy)}")
    return json.dumps(document, separators=(",", ":"))


def _tag(key: str, value: str) -> dict[str, str]:
    return {"Key": key, "Value": _TAG_VALUE_BAD.sub("_", value)[:256]}


class AwsSts:
    """`SecretSpec(backend="aws-sts", ref=<role ARN>, options={"policy": ...})`:
    a 900 s role session per tool call. Its permissions are the intersection of
    the role's and the session policy's, so a call can do only what its profile
    declared. The role's trust policy must allow `sts:AssumeRole` and
    `sts:TagSession` to this worker's principal.

    The tool receives JSON {AccessKeyId, SecretAccessKey, SessionToken,
    Expiration}; the Lease holds the assumed-role ARN (which embeds the session
    name) and the expiry."""

    name = "aws-sts"

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        self._clients = _Clients(client_factory)

    async def issue(self, request: CredentialRequest) -> Credential:
        role_arn = request.spec.ref
        what = f"secret {request.secret!r} ({self.name} {role_arn!r})"
        try:
            policy = session_policy(request.spec.options.get("policy"))
        except (ValueError, TypeError) as exc:
            raise SecretUnavailable(f"{what}: invalid session policy ({exc})") from None
        if len(policy) > SESSION_POLICY_MAX_CHARS:
            raise SecretUnavailable(
                f"{what}: session policy is {len(policy)} chars, AWS allows "
                f"{SESSION_POLICY_MAX_CHARS}"
            )
        response = await _call(
            what,
            self._clients("sts").assume_role,
            RoleArn=role_arn,
            RoleSessionName=session_name(request.mission_id, request.call_id),
            DurationSeconds=STS_DURATION_SECONDS,
            Policy=policy,
            Tags=[
                _tag("sealed:mission", request.mission_id),
                _tag("sealed:profile", request.profile),
                _tag("sealed:tool", request.tool),
            ],
        )
        creds = response["Credentials"]
        expiration: datetime = creds["Expiration"]
        value = json.dumps(
            {
                "AccessKeyId": creds["AccessKeyId"],
                "SecretAccessKey": creds["SecretAccessKey"],
                "SessionToken": creds["SessionToken"],
                "Expiration": expiration.isoformat(),
            }
        )
        lease = Lease(
            backend=self.name,
            secret=request.secret,
            lease_id=response["AssumedRoleUser"]["Arn"],
            expires_at=expiration,
        )
        return Credential(value=SecretValue(request.secret, value), lease=lease)

    async def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        raise NotRenewable(
            f"{lease.backend} session {lease.lease_id!r} cannot be extended: issue a new one"
        )

    async def revoke(self, lease: Lease) -> None:
        """A no-op, by necessity: STS has no API to revoke one session. The
        session dies on its own within 900 s; to cut every live session of a
        role now (profile or mission revocation), use `revoke_sessions_before`."""
        return None

    async def revoke_sessions_before(self, role_arn: str, when: datetime) -> None:
        """AWS's "revoke active sessions": an inline deny-all policy on the role,
        conditioned on `aws:TokenIssueTime` < `when`. It hits every session of
        the role issued before `when` (every mission using the role, not one
        call); sessions issued later are unaffected. IAM is eventually
        consistent: AWS applies the policy within minutes, not at once, so a
        revoked session may still work briefly after this returns. Calling it
        again replaces the policy with the new cut-off."""
        if when.tzinfo is None:
            raise ValueError("`when` must be timezone-aware")
        cutoff = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self._deny(
            role_arn, REVOKE_POLICY_NAME, {"DateLessThan": {"aws:TokenIssueTime": cutoff}}
        )

    async def revoke_mission_sessions(self, role_arn: str, mission_id: str) -> None:
        """One mission's sessions of the role: a deny on sessions whose
        `sealed:mission` tag names it (every session is tagged so at issue).
        The role's list keeps the latest MISSION_DENIES missions: older entries
        name sessions that have expired anyway (900 s at most). Eventually
        consistent, as above."""
        role_name = _role_name(role_arn)
        iam = self._clients("iam")
        try:
            current = await _call(
                f"reading revoked missions of role {role_arn!r}",
                iam.get_role_policy,
                RoleName=role_name,
                PolicyName=MISSION_DENY_POLICY_NAME,
            )
        except SecretUnavailable as exc:
            cause = exc.__cause__
            if not (isinstance(cause, ClientError) and _code(cause) == "NoSuchEntity"):
                raise
            denied: list[str] = []
        else:
            document = current["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            denied = list(document["Statement"][0]["Condition"]["StringEquals"][_MISSION_TAG])
        others = [m for m in denied if m != mission_id]
        denied = [*others[-(MISSION_DENIES - 1) :], mission_id]
        await self._deny(
            role_arn, MISSION_DENY_POLICY_NAME, {"StringEquals": {_MISSION_TAG: denied}}
        )

    async def _deny(self, role_arn: str, policy: str, condition: dict[str, Any]) -> None:
        """An inline policy on the role denying everything to sessions that meet
        `condition` (replacing the policy of that name)."""
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Action": ["*"], "Resource": ["*"], "Condition": condition}
            ],
        }
        await _call(
            f"revoking sessions of role {role_arn!r}",
            self._clients("iam").put_role_policy,
            RoleName=_role_name(role_arn),
            PolicyName=policy,
            PolicyDocument=json.dumps(document),
        )


def _role_name(role_arn: str) -> str:
    """`arn:aws:iam::<account>:role/<path/>name` -> name (IAM APIs take the name;
    the path is not part of it)."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise ValueError(f"not an IAM role ARN: {role_arn!r}")
    return parts[5].rsplit("/", 1)[-1]
