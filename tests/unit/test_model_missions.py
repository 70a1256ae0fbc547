"""Missions on the real providers (openai, anthropic, bedrock), their SDKs
talking to a local wire-format server, run by MissionWorkflow on the
time-skipping test server: the key issued per turn through the profile's
grant, a tool call and a final answer, usage and cost per turn in the
progress and the audit log, Temporal (not the SDK) retrying, refusals that
fail at once with the key redacted, the endpoint held to the profile, and
heartbeats that carry a streaming reply's redacted progress."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import BaseModel
from temporalio.client import WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from sealed.activities.mission import MissionActivities
from sealed.activities.streaming import StreamProgress
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.contract import WORKFLOW_NAME
from sealed.identity.backend import SecretSpec
from sealed.identity.broker import CredentialBroker
from sealed.identity.profiles import Profile, ToolGrant
from sealed.models import (
    MissionInput,
    MissionProgress,
    MissionResult,
    MissionSpec,
    MissionStatus,
    ModelTurnInput,
    OriginalPrompt,
    TurnUsage,
)
from sealed.pinning import FilePromptStore
from sealed.redaction.screen import Screens
from sealed.testing import DictBackend, StaticProfiles, StaticRedactionKey
from sealed.tools.registry import REGISTRY, ToolContext, tool
from sealed.workers.worker import Spine, build_worker
from tests.model_servers import (
    ModelServer,
    Reply,
    anthropic_error,
    anthropic_stream,
    bedrock_error,
    bedrock_stream,
    openai_error,
    openai_stream,
)

QUEUE = "unit-model-missions"
OPENAI_KEY = "sk-proj-9c41d2e8b7a6f5e4d3c2b1a0"
ANTHROPIC_KEY = "sk-ant-api03-7f6e5d4c3b2a1908f7e6d5c4"
AWS_KEYS = {
    "AccessKeyId": "AKIAZ3XMPLE7QK2LW9VB",
    "SecretAccessKey": "q8Zr4Tn2Lm6Vx0Bc5Nd7Hf9Jk1Ps3Wy/EXAMPLE",
}
KEYS = {
    "openai_key": OPENAI_KEY,
    "anthropic_key": ANTHROPIC_KEY,
    "bedrock_keys": json.dumps(AWS_KEYS),
}
SECRETS = {"openai": "openai_key", "anthropic": "anthropic_key", "bedrock": "bedrock_keys"}
# What each value sent to a server may be found as (a request's signature
# holds the AWS key id, never the secret key).
NEVER_SEEN = [OPENAI_KEY, ANTHROPIC_KEY, AWS_KEYS["SecretAccessKey"]]


class LookupArgs(BaseModel):
    city: str


@tool(name="model_test.lookup")
async def lookup(ctx: ToolContext, args: LookupArgs) -> str:
    """Look up the weather in a city."""
    return f"{args.city}: sunny, 21 C"


def profile(server: ModelServer, *, granted: bool = True) -> Profile:
    hosts = [server.host] if granted else []
    return Profile(
        name="modeller",
        tools={
            "model_test.lookup": ToolGrant(),
            **{
                f"model.{provider}": ToolGrant(secrets=[secret], hosts=hosts)
                for provider, secret in SECRETS.items()
            },
        },
        secrets={s: SecretSpec(backend="dict", ref=s) for s in KEYS},
    )


def model(provider: str, server: ModelServer, **parameters: Any) -> dict[str, Any]:
    names = {
        "openai": "gpt-4o-mini",
        "anthropic": "claude-haiku-4-5",
        "bedrock": "anthropic.claude-3-haiku-20240307-v1:0",
    }
    base = {"openai": f"{server.url}/v1", "anthropic": server.url, "bedrock": server.url}
    extra: dict[str, Any] = {"region": "us-east-1"} if provider == "bedrock" else {}
    spec: dict[str, Any] = {
        "provider": provider,
        "name": names[provider],
        "api_key_secret": SECRETS[provider],
        "parameters": {"base_url": base[provider], **extra, **parameters},
    }
    if provider == "bedrock":
        spec["price"] = {"input": 3.0, "output": 15.0}
    return spec


def mission(provider: str, server: ModelServer, **parameters: Any) -> MissionSpec:
    return MissionSpec.model_validate(
        {
            "name": f"weather-{provider}",
            "profile": "modeller",
            "goal": "What is the weather in Paris?",
            "tools": ["model_test.lookup"],
            "model": model(provider, server, **parameters),
        }
    )


STREAMS = {"openai": openai_stream, "anthropic": anthropic_stream, "bedrock": bedrock_stream}
# (input, output) tokens each server reports, and what they cost at the list
# price (gpt-4o-mini, claude-haiku-4-5) or the mission's own (bedrock).
USAGE = {"openai": (11, 7), "anthropic": (13, 5), "bedrock": (17, 3)}
COST = {"openai": round(11 * 0.15 + 7 * 0.60), "anthropic": 13 + 5 * 5, "bedrock": 17 * 3 + 3 * 15}


def error(provider: str, status: int, message: str) -> Reply:
    if provider == "openai":
        return openai_error(status, message, {"retry-after": "1"} if status == 429 else None)
    if provider == "anthropic":
        return anthropic_error(status, message)
    kind = {429: "ThrottlingException", 400: "ValidationException"}[status]
    return bedrock_error(status, kind, message)


class Harness:
    def __init__(self, env: WorkflowEnvironment, server: ModelServer, tmp_path: Path) -> None:
        self.env = env
        self.server = server
        self.audit = AuditLog(tmp_path / "audit.log")
        self.backend = DictBackend(dict(KEYS))
        self.tmp_path = tmp_path

    def worker(self, registered: Profile) -> Worker:
        spine = Spine(
            profiles=StaticProfiles(registered),
            credentials=CredentialBroker({"dict": self.backend}, self.audit),
            screens=Screens(StaticRedactionKey(b"k" * 32), self.audit),
            prompts=FilePromptStore(self.tmp_path / "prompts"),
            audit=self.audit,
        )
        tools = {"model_test.lookup": REGISTRY["model_test.lookup"]}
        return build_worker(self.env.client, Settings(task_queue=QUEUE), spine=spine, tools=tools)

    async def start(self, spec: MissionSpec) -> WorkflowHandle[Any, MissionResult]:
        mission_id = f"unit-model-{uuid.uuid4().hex[:8]}"
        return await self.env.client.start_workflow(
            WORKFLOW_NAME,
            MissionInput(mission_id=mission_id, spec=spec),
            id=mission_id,
            task_queue=QUEUE,
            result_type=MissionResult,
        )

    async def run(self, spec: MissionSpec) -> tuple[MissionResult, WorkflowHandle[Any, Any]]:
        handle = await self.start(spec)
        return await handle.result(), handle


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    with ModelServer().running() as server:
        yield Harness(time_skipping_env, server, tmp_path)


@asynccontextmanager
async def running(harness: Harness, granted: bool = True) -> AsyncIterator[None]:
    async with harness.worker(profile(harness.server, granted=granted)):
        yield


def model_turn_attempts(history: Any) -> list[int]:
    """Each model turn's last attempt (history records no other)."""
    scheduled = {
        e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "sealed.model_turn"
    }
    return [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]


def assert_nothing_leaked(*surfaces: str) -> None:
    for surface in surfaces:
        for value in NEVER_SEEN:
            assert value not in surface


@pytest.mark.parametrize("provider", ["openai", "anthropic", "bedrock"])
async def test_a_mission_calls_a_tool_and_answers(
    harness: Harness,
    provider: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
):
    stream = STREAMS[provider]
    harness.server.reply(
        stream(
            text=["Let me ", "check."], calls=[("model_test-lookup", ['{"city": ', '"Paris"}'])]
        ),
        stream(text=["It is sunny ", "in Paris."]),
    )
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        async with running(harness):
            result, handle = await harness.run(mission(provider, harness.server))
            progress = await handle.query("status", result_type=MissionProgress)
            history = (await handle.fetch_history()).to_json()

    assert result.status == MissionStatus.COMPLETED, result.reason
    assert (result.answer, result.turns, result.tool_calls) == ("It is sunny in Paris.", 2, 1)
    # The model's second turn read the tool's output, under the call's id.
    second = json.dumps(harness.server.requests[1].body)
    assert "Paris: sunny, 21 C" in second and "call-1-0" in second
    # Usage and cost, per turn: in the progress and in the audit log.
    tokens, cost = USAGE[provider], COST[provider]
    assert progress.usage == [
        TurnUsage(turn=t, input_tokens=tokens[0], output_tokens=tokens[1], cost_microusd=cost)
        for t in (1, 2)
    ]
    used = [e for e in harness.audit.events(handle.id) if e.kind == "model.usage"]
    assert [(e.tool, e.details["turn"], e.details["cost_microusd"]) for e in used] == [
        (f"model.{provider}", 1, cost),
        (f"model.{provider}", 2, cost),
    ]
    assert used[0].details["input_tokens"] == tokens[0]
    # The key: issued per turn through the profile's grant, revoked after it,
    # and in nothing the runtime keeps or prints.
    assert [lease.secret for lease in harness.backend.revoked] == [SECRETS[provider]] * 2
    audit_text = (harness.tmp_path / "audit.log").read_text()
    out, err = capfd.readouterr()
    assert_nothing_leaked(history, audit_text, caplog.text, repr(logs), out, err)
    assert "AKIAZ3XMPLE7QK2LW9VB" not in history


@pytest.mark.parametrize("provider", ["openai", "anthropic", "bedrock"])
async def test_a_rate_limit_is_retried_by_temporal_not_the_sdk(harness: Harness, provider: str):
    harness.server.reply(error(provider, 429, "slow down"), STREAMS[provider](text=["Done."]))
    async with running(harness):
        result, handle = await harness.run(mission(provider, harness.server))
        history = await handle.fetch_history()
    assert result.status == MissionStatus.COMPLETED and result.answer == "Done."
    assert len(harness.server.requests) == 2  # one per attempt
    assert model_turn_attempts(history) == [2]


async def test_a_malformed_reply_is_retried(harness: Harness):
    harness.server.reply(
        openai_stream(calls=[("model_test-lookup", ['{"city": "Par'])]),
        openai_stream(calls=[("model_test-lookup", ['{"city": "Paris"}'])]),
        openai_stream(text=["Sunny."]),
    )
    async with running(harness):
        result, handle = await harness.run(mission("openai", harness.server))
        history = await handle.fetch_history()
    assert result.status == MissionStatus.COMPLETED and result.tool_calls == 1
    assert model_turn_attempts(history) == [2, 1]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "bedrock"])
async def test_a_refused_request_fails_at_once_and_leaks_no_key(
    harness: Harness, provider: str, caplog: pytest.LogCaptureFixture
):
    """The server's error quotes everything it was sent, the key among it."""
    key = (
        json.loads(KEYS[SECRETS[provider]])["SecretAccessKey"]
        if provider == "bedrock"
        else KEYS[SECRETS[provider]]
    )
    leaked = f"bad request from key {key}"
    harness.server.reply(error(provider, 400, leaked))
    caplog.set_level(logging.DEBUG)
    async with running(harness):
        result, handle = await harness.run(mission(provider, harness.server))
        history = await handle.fetch_history()
    assert result.status == MissionStatus.FAILED
    assert result.reason is not None and "ModelRejected" in result.reason
    assert f"[REDACTED:{SECRETS[provider]}" in result.reason
    assert model_turn_attempts(history) == [1]  # not retried
    assert len(harness.server.requests) == 1
    assert_nothing_leaked(history.to_json(), result.reason, caplog.text)
    assert key not in history.to_json()


async def test_a_streamed_reply_is_redacted_before_anything_keeps_it(harness: Harness):
    harness.server.reply(
        openai_stream(text=["My key is ", OPENAI_KEY[:9], OPENAI_KEY[9:], ", keep it safe."])
    )
    async with running(harness):
        result, handle = await harness.run(mission("openai", harness.server))
        history = (await handle.fetch_history()).to_json()
    assert result.answer == "My key is [REDACTED:openai_key], keep it safe."
    assert_nothing_leaked(history)
    [redacted] = [e for e in harness.audit.events(handle.id) if e.kind == "redaction"]
    assert redacted.details["known:openai_key"] == 1


async def test_the_model_endpoint_must_be_granted_to_the_profile(harness: Harness):
    async with running(harness, granted=False):
        result, _ = await harness.run(mission("openai", harness.server))
    assert result.status == MissionStatus.FAILED
    assert result.reason is not None
    assert f"does not allow the model endpoint {harness.server.host}" in result.reason
    assert harness.server.requests == [] and harness.backend.issued == []


# --- heartbeats -----------------------------------------------------------------------


async def test_heartbeats_carry_a_streaming_replys_redacted_progress(harness: Harness):
    # Past the redactor's holdback, over about three seconds.
    words = [" ".join(f"word{i}-{j}" for j in range(40)) + " " for i in range(30)]
    chunks = ["Key: ", OPENAI_KEY[:6], OPENAI_KEY[6:], " ", *words]
    reply = openai_stream(text=chunks)
    reply.pause = 0.1
    harness.server.reply(reply)
    registered = profile(harness.server)
    activities = MissionActivities(
        profiles=StaticProfiles(registered),
        credentials=CredentialBroker({"dict": harness.backend}, harness.audit),
        screens=Screens(StaticRedactionKey(b"k" * 32), harness.audit),
        prompts=FilePromptStore(harness.tmp_path / "prompts"),
        audit=harness.audit,
        tools={"model_test.lookup": REGISTRY["model_test.lookup"]},
    )
    spec = mission("openai", harness.server)
    original = OriginalPrompt.of(spec)
    request = ModelTurnInput(
        mission_id="m-beats",
        profile="modeller",
        turn=1,
        model=spec.model,
        original=original,
        prompt_digest=original.digest(),
        conversation=[],
        tools=spec.tools,
    )
    beats: list[StreamProgress] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.extend(
        StreamProgress.model_validate(d) for d in details
    )
    output = await env.run(activities.model_turn, request)

    assert output.content.startswith("Key: [REDACTED:openai_key] word0-0 word0-1 ")
    assert output.usage is not None and output.cost_microusd == COST["openai"]
    assert beats, "no heartbeat while the reply streamed in"
    assert [b.chunks for b in beats] == sorted(b.chunks for b in beats)
    assert any(b.tail for b in beats)  # text let through while it streamed
    assert all(OPENAI_KEY[:6] not in b.tail for b in beats)
    # What the stream let through is the start of the reply as kept.
    assert all(b.tail.strip() in output.content for b in beats if b.tail)
