"""Argument provenance: every value in a tool call traced to the first text of
the mission it appeared in (prompt, profile, a tool output) or to the model."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sealed.directives.provenance import (
    MAX_DEPTH,
    MAX_WHOLE,
    Provenance,
    ProvenanceIndex,
    Source,
    normalise,
)

PROMPT = Source(kind="prompt")
PROFILE = Source(kind="profile")
MODEL = Source(kind="model")


def output(tool: str = "web.fetch", call_id: str = "call-1") -> Source:
    return Source(kind="tool_output", tool=tool, call_id=call_id)


def index(*texts: tuple[str, str] | tuple[str, str, str]) -> ProvenanceIndex:
    """("prompt"|"profile", text) or (tool, call_id, text), added in order."""
    built = ProvenanceIndex()
    for entry in texts:
        if len(entry) == 2:
            kind, text = entry
            assert kind in ("prompt", "profile")
            built.add_trusted(text, kind)
        else:
            built.add_output(entry[2], entry[0], entry[1])
    return built


def one(provenance: Provenance, path: str):
    [found] = [a for a in provenance.arguments if a.argument == path]
    return found


# Each source kind.


def test_a_value_from_the_prompt_is_trusted():
    traced = index(("prompt", "Email the report to Bob <bob@example.com>")).trace(
        {"to": "bob@example.com"}
    )
    assert one(traced, "to").sources == [PROMPT]
    assert one(traced, "to").parts == ["email"]
    assert traced.trusted_arguments == ["to"]
    assert traced.untrusted_arguments == traced.model_arguments == []


def test_a_value_from_the_profile_is_trusted():
    traced = index(
        ("prompt", "Send the weekly summary"), ("profile", "Reports go to ops@corp.example")
    ).trace({"to": "ops@corp.example"})
    assert one(traced, "to").sources == [PROFILE]
    assert traced.trusted_arguments == ["to"]


def test_a_value_from_a_tool_output_names_the_tool_and_the_call():
    traced = index(
        ("prompt", "Reply to whoever wrote the latest ticket"),
        ("tickets.read", "call-7", "From: mallory@evil.example\nSubject: refund"),
    ).trace({"to": "mallory@evil.example"})
    assert one(traced, "to").sources == [output("tickets.read", "call-7")]
    assert traced.untrusted_arguments == ["to"]
    assert traced.untrusted_tools == ["tickets.read"]
    assert traced.trusted_arguments == []


def test_a_value_found_nowhere_is_the_models():
    traced = index(("prompt", "Send the report to Bob")).trace({"to": "eve@elsewhere.example"})
    assert one(traced, "to").sources == [MODEL]
    assert traced.model_arguments == ["to"]
    assert traced.trusted_arguments == traced.untrusted_arguments == []


def test_prose_the_model_wrote_is_the_models():
    traced = index(("prompt", "Summarise the ticket")).trace({"body": "All good, closing it."})
    assert one(traced, "body").sources == [MODEL]
    assert one(traced, "body").parts == []


# First appearance, mixed sources.


def test_the_first_appearance_wins():
    prompt_first = index(
        ("prompt", "Invite carol@example.com"),
        ("web.fetch", "call-1", "Contact: carol@example.com"),
    )
    assert one(prompt_first.trace({"to": "carol@example.com"}), "to").sources == [PROMPT]
    output_first = index(
        ("web.fetch", "call-1", "Contact: carol@example.com"),
        ("prompt", "Invite carol@example.com"),
    )
    assert one(output_first.trace({"to": "carol@example.com"}), "to").sources == [output()]


def test_an_earlier_call_wins_over_a_later_one_of_the_same_tool():
    traced = index(
        ("web.fetch", "call-1", "see https://docs.example/a"),
        ("web.fetch", "call-2", "see https://docs.example/a again"),
    ).trace({"url": "https://docs.example/a"})
    assert one(traced, "url").sources == [output("web.fetch", "call-1")]


def test_parts_of_one_argument_keep_their_own_sources():
    traced = index(
        ("prompt", "Pay invoice 2024-118 to DE89 3704 0044 0532 0130 00"),
        ("crm.lookup", "call-3", '{"contact": "dave@supplier.example"}'),
    ).trace({"body": "Paid DE89370400440532013000, receipt to dave@supplier.example."})
    found = one(traced, "body")
    assert found.sources == [PROMPT, output("crm.lookup", "call-3")]
    assert found.parts == ["email", "iban", "number"]
    assert traced.untrusted_arguments == ["body"]
    assert traced.trusted_arguments == traced.model_arguments == []


def test_a_whole_value_and_a_part_can_come_from_different_sources():
    traced = index(
        ("mail.read", "call-1", "Forwarded by eve@evil.example"),
        ("prompt", "Tell eve@evil.example the build is green"),
    ).trace({"body": "tell eve@evil.example the build is green"})
    assert one(traced, "body").sources == [PROMPT, output("mail.read", "call-1")]


def test_one_unknown_part_makes_the_argument_partly_the_models():
    traced = index(("prompt", "Write to bob@example.com")).trace(
        {"to": "bob@example.com, eve@elsewhere.example"}
    )
    assert one(traced, "to").sources == [PROMPT, MODEL]
    assert one(traced, "to").parts == ["email"]


def test_sources_come_prompt_profile_outputs_in_order_then_model():
    traced = index(
        ("profile", "Escalations: lead@corp.example"),
        ("web.fetch", "call-2", "mirror at https://second.example/x"),
        ("prompt", "Copy boss@corp.example"),
        ("mail.read", "call-1", "ask ann@partner.example"),
    ).trace(
        {
            "body": "ann@partner.example boss@corp.example https://second.example/x "
            "lead@corp.example zed@nowhere.example"
        }
    )
    assert one(traced, "body").sources == [
        PROMPT,
        PROFILE,
        output("web.fetch", "call-2"),
        output("mail.read", "call-1"),
        MODEL,
    ]
    assert traced.untrusted_tools == ["mail.read", "web.fetch"]


# JSON outputs.


def test_json_escaped_outputs_match_their_decoded_values():
    raw = json.dumps({"note": 'Say "hi" to José, the new café owner'})
    assert '\\"hi\\"' in raw and "\\u00e9" in raw
    traced = index(("prompt", "Greet the new owner"), ("web.fetch", "call-1", raw)).trace(
        {"body": 'say "hi" to josé, the new café owner'}
    )
    assert one(traced, "body").sources == [output()]


def test_json_keys_and_numbers_are_indexed_decoded():
    raw = json.dumps({"jos\u00e9@caf\u00e9.example": {"balance": 1e16}})
    assert "1e+16" in raw
    traced = index(("crm.lookup", "call-1", raw)).trace(
        {"to": "josé@café.example", "amount": 10**16}
    )
    assert one(traced, "to").sources == [output("crm.lookup", "call-1")]
    assert one(traced, "amount").sources == [output("crm.lookup", "call-1")]


def test_escaped_slashes_in_json_still_give_the_url():
    traced = index(("web.fetch", "call-1", '{"next": "https:\\/\\/evil.example\\/pay"}')).trace(
        {"url": "https://evil.example/pay"}
    )
    assert one(traced, "url").sources == [output()]
    assert one(traced, "url").parts == ["host", "url"]


# Salient parts, each kind.


def test_an_email_inside_text_is_traced():
    traced = index(("web.fetch", "call-1", "Contact: Bob <BOB@Example.com>")).trace(
        {"body": "Please write to bob@example.com today"}
    )
    assert one(traced, "body").sources == [output()]
    assert one(traced, "body").parts == ["email"]


def test_a_url_is_traced_whole_and_by_its_host():
    built = index(("web.fetch", "call-1", "Log in at https://www.Evil.example:8443/login?x=1."))
    same = one(built.trace({"body": "open https://www.evil.example:8443/login?x=1 now"}), "body")
    assert same.sources == [output()]
    assert same.parts == ["host", "url"]
    rebuilt = one(built.trace({"url": "https://evil.example/other"}), "url")
    assert rebuilt.sources == [output(), MODEL]
    assert rebuilt.parts == ["host"]


def test_an_iban_written_with_spaces_is_traced():
    traced = index(("prompt", "IBAN: GB82 WEST 1234 5698 7654 32, thanks")).trace(
        {"iban": "GB82WEST12345698765432 "}
    )
    assert one(traced, "iban").sources == [PROMPT]
    assert one(traced, "iban").parts == ["iban", "number"]


def test_a_long_number_is_traced_whatever_its_separators():
    traced = index(("web.fetch", "call-1", "card 4111-1111-1111-1111 exp 12/29")).trace(
        {"card": "4111 1111 1111 1111", "n": 4111111111111111}
    )
    assert one(traced, "card").sources == [output()]
    assert one(traced, "card").parts == ["number"]
    assert one(traced, "n").sources == [output()]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("config at /etc/sealed/app.conf.", "/etc/sealed/app.conf"),
        ("key in ~/.ssh/id_rsa", "~/.ssh/id_rsa"),
        ("dump to C:\\Users\\bob\\secrets.txt", "C:\\Users\\bob\\secrets.txt"),
    ],
)
def test_a_file_path_is_traced(text, path):
    traced = index(("web.fetch", "call-1", text)).trace({"command": f"cat {path} | head"})
    assert one(traced, "command").sources == [output()]
    assert one(traced, "command").parts == ["path"]


def test_a_windows_path_keeps_its_drive():
    built = index(("web.fetch", "call-1", "dump to C:\\Users\\bob\\secrets.txt"))
    traced = built.trace({"command": "type D:\\Users\\bob\\secrets.txt"})
    assert one(traced, "command").sources == [MODEL]


def test_a_source_is_listed_once_however_many_texts_it_gave():
    built = index(("prompt", "Write to ann@example.com"), ("prompt", "and to ben@example.com"))
    traced = built.trace({"to": "ann@example.com; ben@example.com"})
    assert one(traced, "to").sources == [PROMPT]


def test_parts_name_kinds_never_values():
    traced = index(("web.fetch", "call-1", "mallory@evil.example")).trace(
        {"to": "mallory@evil.example"}
    )
    assert one(traced, "to").parts == ["email"]
    assert "mallory" not in traced.model_dump_json()


def test_a_part_cut_differently_from_a_longer_text_is_not_the_models():
    # In the prompt the digits run on ("123456 789" is one number); the value
    # cut from it still came from the prompt.
    traced = index(("prompt", "ref 123456 789 for Ann")).trace({"ref": "ref 123456"})
    assert one(traced, "ref").sources == [PROMPT]


# Whole values, short values.


def test_a_whole_value_matches_after_normalisation():
    full_width = "\uff21\uff23\uff2d\uff25"  # "ACME" as a model may copy it
    built = index(("prompt", f"Subject: Quarterly   Report for {full_width} Corp"))
    traced = built.trace({"subject": "quarterly report\nfor acme CORP"})
    assert one(traced, "subject").sources == [PROMPT]
    assert one(traced, "subject").parts == []


def test_short_values_are_attributed_to_nobody():
    traced = index(("web.fetch", "call-1", "yes 42 ok")).trace(
        {"confirm": "yes", "count": 42, "unknown": "zzz", "long": "zzzz"}
    )
    assert one(traced, "confirm").sources == []
    assert one(traced, "count").sources == []
    assert one(traced, "unknown").sources == []
    assert one(traced, "long").sources == [MODEL]
    assert traced.untrusted_arguments == []
    assert traced.model_arguments == ["long"]


def test_integral_floats_match_as_integers():
    traced = index(("prompt", "Refund 1500 euros")).trace({"amount": 1500.0})
    assert one(traced, "amount").sources == [PROMPT]


# Paths, determinism, limits.


def test_nested_arguments_are_walked_and_sorted_by_path():
    traced = index(("prompt", "Write to ann@example.com and ben@example.com")).trace(
        {
            "meta": {"to": ["ben@example.com", "ann@example.com"], "urgent": True},
            "body": "Hello there",
            "none": None,
        }
    )
    assert [a.argument for a in traced.arguments] == ["body", "meta.to.0", "meta.to.1"]
    assert traced.trusted_arguments == ["meta.to.0", "meta.to.1"]
    assert traced.model_arguments == ["body"]


def test_the_same_inputs_give_the_same_provenance():
    def run(arguments):
        return index(
            ("prompt", "Pay DE89 3704 0044 0532 0130 00"),
            ("web.fetch", "call-1", '{"a": "x@y.example", "b": "https://h.example/p"}'),
            ("mail.read", "call-2", "cc z@w.example /tmp/report.pdf"),
        ).trace(arguments)

    arguments = {
        "to": ["x@y.example", "z@w.example"],
        "body": "see https://h.example/p and /tmp/report.pdf, pay DE89370400440532013000",
        "n": 7,
    }
    reordered = dict(reversed(list(arguments.items())))
    assert run(arguments).model_dump() == run(reordered).model_dump()
    assert run(arguments).model_dump_json() == run(arguments).model_dump_json()


def test_values_below_the_depth_cap_are_taken_as_json_text():
    deep: object = {"to": "mallory@evil.example"}
    for _ in range(MAX_DEPTH + 8):
        deep = [deep]
    traced = index(("mail.read", "call-1", "mallory@evil.example")).trace({"deep": deep})
    [found] = traced.arguments
    assert found.argument == ".".join(["deep", *["0"] * (MAX_DEPTH - 1)])
    assert found.sources == [output("mail.read", "call-1")]


def test_inputs_too_deep_or_strange_for_json_do_not_raise():
    deep: object = "mallory@evil.example"
    for _ in range(100_000):
        deep = [deep]
    cyclic: list[object] = ["mallory@evil.example"]
    cyclic.append(cyclic)
    traced = index(("mail.read", "call-1", "mallory@evil.example")).trace(
        {"deep": deep, "cyclic": cyclic, "huge": 10**5000, "nan": math.nan, "bytes": b"x"}
    )
    for found in traced.arguments:
        if found.argument.startswith(("deep", "cyclic")):
            assert found.sources == [output("mail.read", "call-1")], found.argument
    assert one(traced, "huge").sources == [MODEL]
    assert one(traced, "nan").sources == []


def test_a_huge_value_is_matched_by_its_prefix_and_all_its_parts():
    prompt = "Write the minutes of the meeting" + " filler" * (MAX_WHOLE // 7)
    value = prompt + " then mail mallory@evil.example"
    assert len(normalise(value)) > MAX_WHOLE
    traced = index(("prompt", prompt), ("mail.read", "call-1", "mallory@evil.example")).trace(
        {"body": value}
    )
    assert one(traced, "body").sources == [PROMPT, output("mail.read", "call-1")]


def test_a_huge_value_keeps_a_late_unknown_part_as_the_models():
    prompt = "Write the minutes of the meeting" + " filler" * (MAX_WHOLE // 7)
    value = prompt + " and /etc/shadow"
    assert len(normalise(value)) > MAX_WHOLE
    traced = index(("prompt", prompt)).trace({"body": value})
    assert one(traced, "body").sources == [PROMPT, MODEL]


def test_a_tool_output_names_its_call_and_only_it_does():
    with pytest.raises(ValidationError):
        Source(kind="tool_output", tool="web.fetch")
    with pytest.raises(ValidationError):
        Source(kind="prompt", tool="web.fetch", call_id="call-1")
    with pytest.raises(ValidationError):
        Source(kind="model", call_id="call-1")


# Fuzzing: any JSON-like arguments, any texts.

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.emails()
    | st.from_regex(r"[A-Z]{2}[0-9]{2}( ?[0-9A-Z]{4}){3,6}", fullmatch=True)
    | st.from_regex(r"(/[a-z.~]{1,8}){1,4}", fullmatch=True)
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=24,
)
TEXTS = st.text() | JSON_LIKE.map(json.dumps) | st.emails().map(lambda e: f"From: {e}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arguments=st.dictionaries(st.text(max_size=8), JSON_LIKE, max_size=5),
    prompt=st.text(),
    outputs=st.lists(TEXTS, max_size=4),
)
def test_trace_never_raises(arguments, prompt, outputs):
    tools = [(f"tool{i}", f"call-{i}", text) for i, text in enumerate(outputs)]
    built = index(("prompt", prompt), *tools)
    traced = built.trace(arguments)
    assert isinstance(traced, Provenance)
    paths = [a.argument for a in traced.arguments]
    assert paths == sorted(paths)
    assert traced == built.trace(arguments)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, before=st.lists(st.text(), max_size=3))
def test_a_value_copied_from_an_output_is_never_the_models(text, before):
    built = index(*((f"tool{i}", f"call-{i}", t) for i, t in enumerate(before)))
    built.add_output(text, "web.fetch", "call-x")
    [found] = built.trace({"value": text}).arguments
    assert all(s.kind == "tool_output" for s in found.sources)
    if len(normalise(text)) >= 4:
        assert found.sources
