"""The AWS backends against a real moto server (HTTP, real botocore signing and
parsing), not mocks: Secrets Manager reads, STS sessions whose credentials work,
the role-wide revoke policy, and fail-closed when the server is gone."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from sealed import missions
from sealed.audit import AuditLog
from sealed.identity.aws import (
    MISSION_DENIES,
    MISSION_DENY_POLICY_NAME,
    REVOKE_POLICY_NAME,
    AwsSecretsManager,
    AwsSts,
    ClientFactory,
    default_client_factory,
)
from sealed.identity.backend import (
    CredentialRequest,
    NotRenewable,
    SecretSpec,
    SecretUnavailable,
)
from sealed.identity.openbao.stores import PROFILE_CACHE_SECONDS
from sealed.identity.profiles import Profile
from sealed.revocation import Revoker
from sealed.revocation.cascade import STS_CUTOFF_MARGIN
from tests.integration.conftest import stalling_mission

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE_NAME = "sealed-tool-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/tools/{ROLE_NAME}"
DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# One attempt, short timeouts: a dead endpoint must fail the test fast.
FAST = Config(connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 1})


def factory(endpoint: str, **credentials: str) -> ClientFactory:
    session = boto3.session.Session(region_name=REGION, **(credentials or DUMMY))  # type: ignore[arg-type]
    return default_client_factory(session, endpoint_url=endpoint, config=FAST)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    # Credentials come from the client kwargs only, never this machine's AWS config.
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            iam = factory(endpoint)("iam")
            iam.create_role(
                RoleName=ROLE_NAME,
                Path="/tools/",
                AssumeRolePolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                "Action": ["sts:AssumeRole", "sts:TagSession"],
                            }
                        ],
                    }
                ),
            )
            yield endpoint
        finally:
            server.stop()


def request(backend: str, ref: str, **options: Any) -> CredentialRequest:
    return CredentialRequest(
        mission_id="m-42",
        profile="triage",
        tool="fetch_ticket",
        call_id="call-7",
        secret="ticket_api",
        spec=SecretSpec(backend=backend, ref=ref, options=options),
    )


async def test_secrets_manager_issues_the_value_and_a_lease_without_it(moto_endpoint):
    sm = factory(moto_endpoint)("secretsmanager")
    created = sm.create_secret(Name="sealed/plain", SecretString="s3cr3t-plain-value")
    backend = AwsSecretsManager(factory(moto_endpoint))

    credential = await backend.issue(request("aws-secrets-manager", "sealed/plain"))

    assert credential.value.reveal() == "s3cr3t-plain-value"
    assert credential.lease.lease_id == f"sealed/plain@{created['VersionId']}"
    assert credential.lease.backend == "aws-secrets-manager"
    assert not credential.lease.renewable
    assert "s3cr3t-plain-value" not in credential.lease.model_dump_json()
    assert "s3cr3t-plain-value" not in repr(credential)
    await backend.revoke(credential.lease)  # nothing at the backend, but callable
    with pytest.raises(NotRenewable):
        await backend.renew(credential.lease, timedelta(minutes=1))


async def test_secrets_manager_json_key(moto_endpoint):
    document = {"token": "tok-123-secret", "user": "svc-bot"}
    factory(moto_endpoint)("secretsmanager").create_secret(
        Name="sealed/json", SecretString=json.dumps(document)
    )
    backend = AwsSecretsManager(factory(moto_endpoint))

    credential = await backend.issue(request("aws-secrets-manager", "sealed/json", key="token"))
    assert credential.value.reveal() == "tok-123-secret"

    with pytest.raises(SecretUnavailable) as missing_key:
        await backend.issue(request("aws-secrets-manager", "sealed/json", key="password"))
    assert "'password'" in str(missing_key.value)
    assert "tok-123-secret" not in str(missing_key.value)


async def test_secrets_manager_missing_secret_fails_closed(moto_endpoint):
    backend = AwsSecretsManager(factory(moto_endpoint))
    with pytest.raises(SecretUnavailable) as exc:
        await backend.issue(request("aws-secrets-manager", "sealed/does-not-exist"))
    message = str(exc.value)
    assert "ticket_api" in message and "sealed/does-not-exist" in message
    assert "ResourceNotFoundException" in message


async def test_sts_session_credentials_work_and_expire_in_900s(moto_endpoint):
    backend = AwsSts(factory(moto_endpoint))
    before = datetime.now(UTC)

    credential = await backend.issue(request("aws-sts", ROLE_ARN))

    creds = json.loads(credential.value.reveal())
    assert set(creds) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assumed_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/sealed-m-42-call-7"
    assert credential.lease.lease_id == assumed_arn
    assert credential.lease.expires_at is not None
    lifetime = credential.lease.expires_at - before
    assert timedelta(seconds=840) < lifetime < timedelta(seconds=960)
    dumped = credential.lease.model_dump_json()
    assert creds["SecretAccessKey"] not in dumped and creds["SessionToken"] not in dumped

    # The issued credentials are real: moto resolves them to the assumed role.
    as_tool = factory(
        moto_endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )("sts")
    assert as_tool.get_caller_identity()["Arn"] == assumed_arn

    await backend.revoke(credential.lease)  # documented no-op
    with pytest.raises(NotRenewable):
        await backend.renew(credential.lease, timedelta(minutes=5))


async def test_revoke_sessions_before_writes_the_deny_policy(moto_endpoint):
    backend = AwsSts(factory(moto_endpoint))
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(microseconds=999)

    await backend.revoke_sessions_before(ROLE_ARN, when)

    policy = factory(moto_endpoint)("iam").get_role_policy(
        RoleName=ROLE_NAME, PolicyName=REVOKE_POLICY_NAME
    )["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == ["*"] and statement["Resource"] == ["*"]
    assert statement["Condition"] == {
        "DateLessThan": {"aws:TokenIssueTime": "2030-01-02T03:04:05Z"}
    }


async def test_unknown_role_revocation_fails_closed(moto_endpoint):
    backend = AwsSts(factory(moto_endpoint))
    with pytest.raises(SecretUnavailable, match="NoSuchEntity"):
        await backend.revoke_sessions_before(
            f"arn:aws:iam::{ACCOUNT}:role/nobody", datetime.now(UTC)
        )


async def test_stopped_server_fails_closed(moto_endpoint):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    factory(endpoint)("secretsmanager").create_secret(
        Name="sealed/gone", SecretString="value-behind-a-dead-server"
    )
    sm, sts = AwsSecretsManager(factory(endpoint)), AwsSts(factory(endpoint))
    server.stop()

    with pytest.raises(SecretUnavailable, match="unreachable") as exc:
        await sm.issue(request("aws-secrets-manager", "sealed/gone"))
    assert "value-behind-a-dead-server" not in str(exc.value)
    with pytest.raises(SecretUnavailable, match="unreachable"):
        await sts.issue(request("aws-sts", ROLE_ARN))


async def test_revoking_a_profile_denies_its_sts_sessions(
    moto_endpoint, client, admin_for_tests, tmp_path
):
    """Revoker.revoke_profile puts AWS's documented deny-older-sessions policy
    on every role the profile assumes (AWS applies it within minutes)."""
    name = f"aws-{uuid.uuid4().hex[:6]}"
    admin_for_tests.apply_profile(
        Profile.model_validate(
            {
                "name": name,
                "tools": {"reports.fetch": {"secrets": ["reports"]}},
                "secrets": {"reports": {"backend": "aws-sts", "ref": ROLE_ARN}},
            }
        )
    )
    sts = AwsSts(factory(moto_endpoint))
    revoker = Revoker(admin_for_tests, client, AuditLog(tmp_path / "audit.log"), sts)
    report = await revoker.revoke_profile(name, "rotate", "tests")
    policy = factory(moto_endpoint)("iam").get_role_policy(
        RoleName=ROLE_NAME, PolicyName=REVOKE_POLICY_NAME
    )["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    issued_before = policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    # Past what a worker's cached view may still issue, and clock skew (red team 8).
    cutoff = report.revocation.at + STS_CUTOFF_MARGIN
    assert issued_before == cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert timedelta(seconds=PROFILE_CACHE_SECONDS + 30) <= STS_CUTOFF_MARGIN


def mission_denies(endpoint: str) -> list[str]:
    policy = factory(endpoint)("iam").get_role_policy(
        RoleName=ROLE_NAME, PolicyName=MISSION_DENY_POLICY_NAME
    )["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == ["*"]
    return list(statement["Condition"]["StringEquals"]["aws:PrincipalTag/sealed:mission"])


async def test_one_missions_sessions_are_denied_by_their_tag(moto_endpoint):
    sts = AwsSts(factory(moto_endpoint))
    for mission in ("m-1", "m-2", "m-1"):
        await sts.revoke_mission_sessions(ROLE_ARN, mission)
    assert mission_denies(moto_endpoint) == ["m-2", "m-1"]
    for n in range(MISSION_DENIES + 5):
        await sts.revoke_mission_sessions(ROLE_ARN, f"m-many-{n}")
    kept = mission_denies(moto_endpoint)
    assert len(kept) == MISSION_DENIES and kept[-1] == f"m-many-{MISSION_DENIES + 4}"


async def test_revoking_a_mission_denies_its_sts_sessions(
    moto_endpoint, client, worker, stack_settings, admin_for_tests, tmp_path
):
    """`sealed revoke mission`: the sessions tagged with the mission, on every
    role its profile assumes (red team 8)."""
    name = f"aws-{uuid.uuid4().hex[:6]}"
    admin_for_tests.apply_profile(
        Profile.model_validate(
            {
                "name": name,
                "tools": {"test.stall": {}},
                "secrets": {"reports": {"backend": "aws-sts", "ref": ROLE_ARN}},
            }
        )
    )
    stalling = stalling_mission(name)
    handle = await missions.submit(client, stack_settings, stalling)
    async with asyncio.timeout(30):
        await missions.wait_for_pending(client, handle.id, "tool:")
    revoker = Revoker(
        admin_for_tests, client, AuditLog(tmp_path / "audit.log"), AwsSts(factory(moto_endpoint))
    )
    report = await revoker.revoke_mission(handle.id, "leaked", "tests")
    assert report.missions_aborted == [handle.id]
    assert handle.id in mission_denies(moto_endpoint)
