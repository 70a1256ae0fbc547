"""The exact AssumeRole request, checked by botocore's Stubber against the real
STS service model. moto ignores session policies and tags, so this is where the
per-call scoping (900 s, the session policy, the session name, the tags) is
pinned down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sealed.identity.aws import DENY_ALL_POLICY, AwsSts, session_name, session_policy
from sealed.identity.backend import CredentialRequest, SecretSpec, SecretUnavailable

ROLE_ARN = "arn:aws:iam::123456789012:role/sealed-tool-role"
EXPIRATION = datetime(2030, 1, 1, 12, 15, tzinfo=UTC)
READ_BUCKET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tickets/*"}


@pytest.fixture
def sts() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def request(mission_id: str = "m-42", call_id: str = "call-7", **options: Any):
    return CredentialRequest(
        mission_id=mission_id,
        profile="triage",
        tool="s3_read",
        call_id=call_id,
        secret="tickets_bucket",
        spec=SecretSpec(backend="aws-sts", ref=ROLE_ARN, options=options),
    )


def response(session: str) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SessionToken": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
            "Expiration": EXPIRATION,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": f"AROAEXAMPLEEXAMPLE:{session}",
            "Arn": f"arn:aws:sts::123456789012:assumed-role/sealed-tool-role/{session}",
        },
    }


def expected(session: str, policy: dict[str, Any], mission: str = "m-42") -> dict[str, Any]:
    return {
        "RoleArn": ROLE_ARN,
        "RoleSessionName": session,
        "DurationSeconds": 900,
        "Policy": json.dumps(policy, separators=(",", ":")),
        "Tags": [
            {"Key": "sealed:mission", "Value": mission},
            {"Key": "sealed:profile", "Value": "triage"},
            {"Key": "sealed:tool", "Value": "s3_read"},
        ],
    }


async def test_assume_role_request_is_scoped_to_the_call(sts):
    client, stubber = sts
    policy = {"Version": "2012-10-17", "Statement": [READ_BUCKET]}
    stubber.add_response(
        "assume_role", response("sealed-m-42-call-7"), expected("sealed-m-42-call-7", policy)
    )

    credential = await AwsSts(lambda _: client).issue(request(policy=[READ_BUCKET]))

    assert json.loads(credential.value.reveal()) == {
        "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "SessionToken": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
        "Expiration": EXPIRATION.isoformat(),
    }
    assert credential.lease.lease_id.endswith("assumed-role/sealed-tool-role/sealed-m-42-call-7")
    assert credential.lease.expires_at == EXPIRATION
    assert "EXAMPLEKEY" not in credential.lease.model_dump_json()


async def test_no_declared_policy_means_deny_all(sts):
    client, stubber = sts
    stubber.add_response(
        "assume_role",
        response("sealed-m-42-call-7"),
        expected("sealed-m-42-call-7", DENY_ALL_POLICY),
    )
    await AwsSts(lambda _: client).issue(request())


async def test_names_and_tags_are_sanitised_to_what_sts_accepts(sts):
    client, stubber = sts
    mission = "mission/with spaces#and*stars" + "x" * 80
    session = session_name(mission, "call:1")
    assert len(session) == 64 and session.startswith("sealed-mission_with_spaces_and_stars")
    # Tag values allow spaces and slashes but not '#' or '*'; at most 256 chars.
    tag_value = "mission/with spaces_and_stars" + "x" * 80
    stubber.add_response(
        "assume_role",
        response(session),
        expected(session, DENY_ALL_POLICY, mission=tag_value),
    )
    await AwsSts(lambda _: client).issue(request(mission_id=mission, call_id="call:1"))


def test_session_policy_shapes():
    full = {"Version": "2012-10-17", "Statement": [READ_BUCKET]}
    assert json.loads(session_policy(full)) == full
    assert json.loads(session_policy([READ_BUCKET])) == full
    assert json.loads(session_policy(READ_BUCKET)) == full
    assert json.loads(session_policy(json.dumps([READ_BUCKET]))) == full
    assert json.loads(session_policy(None)) == DENY_ALL_POLICY


async def test_oversized_or_invalid_policy_fails_closed_without_calling_sts(sts):
    client, _ = sts  # no stubbed response: any call would fail the test
    huge = [dict(READ_BUCKET, Sid=f"s{i}") for i in range(40)]
    with pytest.raises(SecretUnavailable, match="2048"):
        await AwsSts(lambda _: client).issue(request(policy=huge))
    with pytest.raises(SecretUnavailable, match="invalid session policy"):
        await AwsSts(lambda _: client).issue(request(policy=42))


async def test_sts_refusal_fails_closed(sts):
    client, stubber = sts
    stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message="not authorized to perform: sts:TagSession",
        http_status_code=403,
    )
    with pytest.raises(SecretUnavailable, match=r"tickets_bucket.*AccessDenied.*TagSession"):
        await AwsSts(lambda _: client).issue(request())
