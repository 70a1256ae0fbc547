"""What the real model providers share, pure: tool names on the wire, call ids
and arguments, what an HTTP status means for the turn, the headers that
carry the key, a mission's model section for a real provider, the price
table, and the stream sink that redacts a reply chunk by chunk."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sealed.activities.streaming import TAIL, ReplyStream, StreamProgress
from sealed.identity.backend import SecretValue
from sealed.llm.base import (
    ModelConfigError,
    ModelMalformedReply,
    ModelRejected,
    ModelTransientError,
)
from sealed.llm.prices import LIST_PRICES, PriceTable
from sealed.llm.wire import (
    WIRE_NAME_MAX,
    ToolNames,
    arguments,
    http_failure,
    merged,
    pinned_headers,
    wire_name,
)
from sealed.models import ModelReply, ModelSpec, Price, TokenUsage, ToolInfo
from sealed.redaction.injection import HeuristicDetector
from sealed.redaction.known import KnownValues, mission_key
from sealed.redaction.redactor import Redactor
from sealed.redaction.screen import Screen
from sealed.spec_loader import SpecError

WIRE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOL_NAMES = st.from_regex(r"\A[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30}){0,3}\Z")


def info(name: str) -> ToolInfo:
    return ToolInfo(name=name, description="d", privilege="low", parameters={"type": "object"})


@given(st.lists(TOOL_NAMES, min_size=1, max_size=8, unique=True))
def test_tool_names_map_to_the_wire_and_back(names: list[str]):
    wires = [wire_name(n) for n in names]
    assert all(WIRE.match(w) for w in wires)
    assert len(set(wires)) == len(names)  # one to one
    assert [wire_name(n) for n in names] == wires  # deterministic
    table = ToolNames(info(n) for n in names)
    assert [table.sealed(w) for w in wires] == names


def test_a_long_tool_name_is_cut_deterministically_and_maps_back():
    long = "a" * 50 + "." + "b" * 50
    other = "a" * 50 + "." + "b" * 49 + "c"
    assert len(wire_name(long)) == WIRE_NAME_MAX and WIRE.match(wire_name(long))
    assert wire_name(long) == wire_name(long) != wire_name(other)
    assert ToolNames([info(long), info(other)]).sealed(wire_name(other)) == other


def test_a_tool_the_model_made_up_maps_back_by_the_same_rule():
    assert ToolNames([info("tickets.read")]).sealed("http-fetch") == "http.fetch"


def test_arguments_must_be_a_json_object():
    assert arguments('{"ticket_id": 1}', "t") == {"ticket_id": 1}
    assert arguments("  ", "t") == {}
    with pytest.raises(ModelMalformedReply, match="not valid JSON"):
        arguments('{"ticket_id": ', "t")
    with pytest.raises(ModelMalformedReply, match="not a JSON object"):
        arguments("[1, 2]", "t")


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (429, ModelTransientError, True),
        (408, ModelTransientError, True),
        (500, ModelTransientError, True),
        (503, ModelTransientError, True),
        (401, ModelConfigError, False),
        (403, ModelConfigError, False),
        (404, ModelConfigError, False),
        (400, ModelRejected, False),
        (413, ModelRejected, False),
        (422, ModelRejected, False),
    ],
)
def test_what_a_status_means_for_the_turn(status: int, kind: type, retryable: bool):
    failure = http_failure(status, "x" * 5000, "3")
    assert type(failure) is kind and failure.retryable is retryable
    assert len(str(failure)) < 600  # the provider's message is kept short


def test_a_rate_limit_says_how_long_to_wait_within_a_bound():
    wait = http_failure(429, "slow down", "2")
    assert isinstance(wait, ModelTransientError) and wait.retry_after == timedelta(seconds=2)
    capped = http_failure(429, "slow down", "86400")
    assert isinstance(capped, ModelTransientError)
    assert capped.retry_after == timedelta(seconds=60)
    dated = http_failure(429, "slow down", "Wed, 21 Oct 2026 07:28:00 GMT")
    assert isinstance(dated, ModelTransientError) and dated.retry_after is None


def test_only_the_sdks_own_credential_header_is_sent():
    omit = object()
    headers = pinned_headers({"Authorization": "Bearer k"}, omit)
    assert headers == {"authorization": "Bearer k", "x-api-key": omit, "api-key": omit}
    assert pinned_headers({}, omit) == dict.fromkeys(
        ("authorization", "x-api-key", "api-key"), omit
    )


def test_consecutive_messages_of_a_role_are_merged():
    messages = [
        {"role": "user", "content": [1]},
        {"role": "user", "content": [2]},
        {"role": "assistant", "content": [3]},
        {"role": "user", "content": [4]},
    ]
    assert merged(messages, "content") == [
        {"role": "user", "content": [1, 2]},
        {"role": "assistant", "content": [3]},
        {"role": "user", "content": [4]},
    ]


# --- a mission's model section -------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ({"provider": "openai", "name": "gpt-4o"}, "needs 'api_key_secret'"),
        ({"provider": "anthropic", "name": "claude"}, "needs 'api_key_secret'"),
        (
            {"provider": "bedrock", "name": "m", "parameters": {"region": "us-east-1"}},
            "needs 'api_key_secret'",
        ),
        ({"provider": "openai", "api_key_secret": "k"}, "needs the model's 'name'"),
        (
            {"provider": "openai", "name": "m", "api_key_secret": "k", "parameters": {"tmp": 1}},
            "tmp: Extra inputs are not permitted",
        ),
        (
            {"provider": "bedrock", "name": "m", "api_key_secret": "k"},
            "region: Field required",
        ),
        (
            {
                "provider": "openai",
                "name": "m",
                "api_key_secret": "k",
                "parameters": {"base_url": "http://models.example.net/v1"},
            },
            "a key is sent only over https",
        ),
        (
            {
                "provider": "openai",
                "name": "m",
                "api_key_secret": "k",
                "parameters": {"base_url": "https://user:pw@models.example.net/v1"},
            },
            "no credentials, query or fragment",
        ),
        (
            {
                "provider": "anthropic",
                "name": "m",
                "api_key_secret": "k",
                "script": {"turns": [{"final": "x"}]},
            },
            "takes no 'script'",
        ),
    ],
)
def test_a_real_provider_needs_a_complete_model_section(model: dict[str, Any], problem: str):
    with pytest.raises(ValidationError, match=re.escape(problem)):
        ModelSpec.model_validate(model)


def test_a_server_of_ones_own_may_take_no_key():
    spec = ModelSpec.model_validate(
        {
            "provider": "openai",
            "name": "llama3",
            "parameters": {"base_url": "http://ollama:11434/v1"},
        }
    )
    assert spec.api_key_secret is None
    keyed_local = ModelSpec.model_validate(
        {
            "provider": "openai",
            "name": "llama3",
            "api_key_secret": "k",
            "parameters": {"base_url": "http://127.0.0.1:11434/v1"},
        }
    )
    assert keyed_local.api_key_secret == "k"


# --- prices -----------------------------------------------------------------------


def test_the_price_file_merges_over_the_list_prices_and_comes_before_the_mission(tmp_path: Path):
    path = tmp_path / "prices.yaml"
    path.write_text(
        "prices:\n  gpt-4o: {input: 5, output: 20}\n  llama3: {input: 0.1, output: 0.2}\n"
    )
    table = PriceTable.load(path)
    usage = TokenUsage(input_tokens=1000, output_tokens=100)
    cheap = Price(input=0, output=0)

    def model(name: str, price: Price | None = None) -> ModelSpec:
        return ModelSpec(provider="keyed", name=name, price=price)

    assert table.cost_microusd(model("gpt-4o"), usage) == 7000
    assert table.cost_microusd(model("llama3"), usage) == 120
    # A mission cannot declare a priced model cheap; it prices only the unpriced.
    assert table.cost_microusd(model("gpt-4o", cheap), usage) == 7000
    assert table.cost_microusd(model("gpt-4o-mini", cheap), usage) == round(
        1000 * LIST_PRICES["gpt-4o-mini"].input + 100 * LIST_PRICES["gpt-4o-mini"].output
    )
    assert table.cost_microusd(model("mine", Price(input=1, output=2)), usage) == 1200
    assert table.cost_microusd(model("unpriced"), usage) == 0
    assert table.cost_microusd(model("gpt-4o"), None) == 0
    assert PriceTable.load(None).cost_microusd(model("gpt-4o"), usage) == 3500


def test_a_bad_price_file_is_refused(tmp_path: Path):
    path = tmp_path / "prices.yaml"
    path.write_text("prices:\n  gpt-4o: {input: -1, output: 20}\n")
    with pytest.raises(SpecError, match="greater than or equal to 0"):
        PriceTable.load(path)
    path.write_text("gpt-4o: {input: 1, output: 2}\n")
    with pytest.raises(SpecError, match="gpt-4o"):
        PriceTable.load(path)


# --- the stream sink ------------------------------------------------------------------

KEY = "sk-live-0123456789abcdefABCDEF"
TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def screen() -> Screen:
    """A model turn's screen that was issued KEY."""
    opened = Screen(
        mission_id="m-1",
        key=mission_key(b"k" * 32, "m-1"),
        known=[],
        detector=HeuristicDetector(),
        where="model_turn",
        tool=None,
    )
    opened.issue({"model_key": SecretValue("model_key", KEY)})
    return opened


def pieces_of(text: str, cuts: list[int]) -> list[str]:
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(text[at : at + cut])
        at += cut
    return [*pieces, text[at:]]


@settings(deadline=None)  # the first example compiles the patterns
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=60))
def test_a_streamed_reply_is_redacted_chunk_by_chunk(cuts: list[int]):
    """However the reply is cut, no chunk let through holds a secret or the
    start of one, and what is let through is the reply as screened whole."""
    text = f"Here is the key: {KEY}, and {TOKEN}. Done."
    turn = screen()
    screened = turn.reply_stream()
    let_through = [screened.feed(piece) for piece in pieces_of(text, cuts)]
    let_through.append(screened.flush())
    for piece in let_through:
        assert KEY[:8] not in piece and TOKEN[:8] not in piece
    whole = "".join(let_through)
    assert whole == Redactor(KnownValues(turn._key, turn.issued)).redact(text).text
    assert whole.count("[REDACTED:model_key]") == 1 and TOKEN not in whole
    # Screened whole again (as reply_in does to the final reply): nothing more.
    assert turn.reply_in(ModelReply(content=whole)).content == whole


def test_the_sink_reports_its_progress_redacted():
    """What the heartbeats carry: chunks and characters received, and the end
    of what was let through, which lags the stream by the redactor's
    holdback (a secret-shaped match can be that long)."""
    sink = ReplyStream(screen().reply_stream())
    chunks = ["Thinking about it. ", f"The key is {KEY[:15]}", f"{KEY[15:]} and that is all. "]
    sink(chunks[0])
    assert sink.progress() == StreamProgress(chunks=1, received=len(chunks[0]), tail="")
    chunks.append("More words follow here. " * 500)
    for chunk in chunks[1:]:
        sink(chunk)
    progress = sink.progress()
    assert (progress.chunks, progress.received) == (4, sum(map(len, chunks)))
    assert "More words follow here." in progress.tail and len(progress.tail) == TAIL
    whole = sink.close()
    assert whole.startswith("Thinking about it. The key is [REDACTED:model_key] and that is all.")
    assert len(whole) < sum(map(len, chunks))


def test_the_stream_counts_what_it_redacts_into_the_screens_audit():
    turn = screen()
    sink = ReplyStream(turn.reply_stream())
    for piece in ("the key ", KEY[:10], KEY[10:], " and ", TOKEN[:9], TOKEN[9:]):
        sink(piece)
    sink.close()
    assert turn.redactions == 2
    [event] = turn.events()
    assert event.kind == "redaction" and event.details["known:model_key"] == 1
