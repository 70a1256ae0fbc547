"""One mission per real provider (openai, anthropic, bedrock) on the embedded
stack: the real Temporal dev server, OpenBao holding each provider's key as a
profile secret, the real ticket service and the session's worker; each model
is its official SDK talking to a local server that speaks its wire format
(tests.model_servers), streamed. The model reads a ticket, then answers; the
key is issued per turn from OpenBao and is in nothing the stack keeps."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from sealed import missions
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.identity.backend import SecretSpec
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile, ToolGrant
from sealed.models import MissionProgress, MissionSpec, MissionStatus
from tests.containment import decoded_history, shown_through_codec
from tests.integration.conftest import run_cli
from tests.model_servers import ModelServer, anthropic_stream, bedrock_stream, openai_stream

PROFILE = "model-e2e"
STREAMS = {"openai": openai_stream, "anthropic": anthropic_stream, "bedrock": bedrock_stream}
MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "bedrock": "anthropic.claude-3-haiku-20240307-v1:0",
}


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer().running() as running:
        yield running


@pytest.fixture(scope="module")
def keys(admin_for_tests: VaultAdmin, server: ModelServer) -> dict[str, str]:
    """Each provider's key in OpenBao, random per run, and the profile that
    grants it to `model.<provider>`, at the local server's address only."""
    values = {
        "openai": f"sk-proj-{secrets.token_hex(16)}",
        "anthropic": f"sk-ant-api03-{secrets.token_hex(16)}",
        "bedrock": json.dumps(
            {
                "AccessKeyId": f"AKIA{secrets.token_hex(8).upper()}",
                "SecretAccessKey": secrets.token_urlsafe(30),
            }
        ),
    }
    for provider, value in values.items():
        admin_for_tests.put_secret(f"model-e2e/{provider}", value)
    admin_for_tests.apply_profile(
        Profile(
            name=PROFILE,
            tools={
                "tickets.read": ToolGrant(),
                **{
                    f"model.{p}": ToolGrant(secrets=[f"{p}_key"], hosts=[server.host])
                    for p in values
                },
            },
            secrets={
                f"{p}_key": SecretSpec(backend="vault-kv", ref=f"model-e2e/{p}") for p in values
            },
        )
    )
    return values


def mission(provider: str, server: ModelServer) -> MissionSpec:
    base = f"{server.url}/v1" if provider == "openai" else server.url
    region = {"region": "eu-central-1"} if provider == "bedrock" else {}
    return MissionSpec.model_validate(
        {
            "name": f"model-e2e-{provider}",
            "profile": PROFILE,
            "goal": "What is ticket 2 about?",
            "tools": ["tickets.read"],
            "model": {
                "provider": provider,
                "name": MODELS[provider],
                "api_key_secret": f"{provider}_key",
                "parameters": {"base_url": base, **region},
                "price": {"input": 1.0, "output": 2.0},
            },
        }
    )


def sent_key(provider: str, headers: dict[str, str]) -> str:
    if provider == "bedrock":
        return headers["authorization"].split("Credential=")[1].split("/")[0]
    return headers["authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize("provider", ["openai", "anthropic", "bedrock"])
async def test_a_mission_on_a_real_provider_runs_end_to_end(
    client: Client,
    worker,
    stack: StackInfo,
    stack_settings: Settings,
    server: ModelServer,
    keys: dict[str, str],
    stack_env: dict[str, str],
    provider: str,
):
    stream = STREAMS[provider]
    server.requests.clear()
    server.reply(
        stream(text=["Reading ", "ticket 2."], calls=[("tickets-read", ['{"ticket_', 'id": 2}'])]),
        stream(text=["Bob was ", "charged twice."]),
    )
    handle = await missions.submit(client, stack_settings, mission(provider, server))
    result = await handle.result()
    progress = await handle.query("status", result_type=MissionProgress)

    assert result.status == MissionStatus.COMPLETED, result.reason
    assert (result.answer, result.turns, result.tool_calls) == ("Bob was charged twice.", 2, 1)
    first, second = server.requests
    # The ticket the tool read reached the model's second turn.
    assert "Charged twice for the March invoice" in json.dumps(second.body)
    # The key OpenBao holds is the one each turn sent.
    key = keys[provider]
    expected = json.loads(key)["AccessKeyId"] if provider == "bedrock" else key
    assert sent_key(provider, first.headers) == sent_key(provider, second.headers) == expected
    # Usage per turn, in the progress and the audit log.
    assert [u.turn for u in progress.usage] == [1, 2]
    assert all(u.input_tokens > 0 and u.cost_microusd > 0 for u in progress.usage)
    code, out, err = await run_cli("status", handle.id, env=stack_env)
    assert code == 0, err
    assert "  usage: " in out and "    turn 2: " in out, out
    events = AuditLog(stack_settings.audit_path()).events(handle.id)
    used = [e for e in events if e.kind == "model.usage"]
    assert [e.details["turn"] for e in used] == [1, 2]
    issued = [e for e in events if e.kind == "credential.issued" and e.secret == f"{provider}_key"]
    revoked = [
        e for e in events if e.kind == "credential.revoked" and e.secret == f"{provider}_key"
    ]
    assert len(issued) == len(revoked) == 2  # one per turn
    # The key is in nothing the stack keeps about the mission: its history
    # (decrypted through the codec server, as an operator reads it), its
    # transcript, the audit log.
    history = decoded_history(shown_through_codec(stack, stack_settings, handle.id))
    assert "charged twice" in history  # decrypted indeed
    transcript = json.dumps(await handle.query("transcript"))
    audit = stack_settings.audit_path().read_text()
    values = [key, *([json.loads(key)["SecretAccessKey"]] if provider == "bedrock" else [])]
    for value in values:
        assert value not in history and value not in transcript and value not in audit
