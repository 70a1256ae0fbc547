"""The directive engine, pure: policy files compile with file and line on every
problem, verdicts follow Cedar (forbid wins, the stronger action decides,
watching policies never enforce), evaluation errors fail closed, the context
handed to Cedar is only what the policies read (and decides the same), and
no tool-call arguments a model may send make evaluation crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealed.directives.engine import NO_PERMIT, Engine, Principal
from sealed.directives.facts import cedar_value, destination
from sealed.directives.policies import (
    DirectiveError,
    DirectiveSet,
    PolicySource,
    ToolFacts,
    compile_sources,
    default_source,
)
from sealed.directives.reads import outermost, pruned, reads
from sealed.directives.tracker import Tracker
from sealed.models import MissionSpec, ToolCall, ToolCallResult

TOOLS = {
    "mail.send": ToolFacts(privilege="high", side_effects=True),
    "web.get": ToolFacts(privilege="low", side_effects=False, destination="url"),
    "kb.read": ToolFacts(privilege="low", side_effects=False),
}
WHO = Principal("m-1", "p")


def level(text: str, name: str = "profile", **extra: Any) -> PolicySource:
    return PolicySource(level=name, text=text, origin=f"{name}.cedar", **extra)  # type: ignore[arg-type]


def engine(*sources: PolicySource, relaxed: list[str] | None = None) -> Engine:
    return Engine(
        DirectiveSet(
            sources=[default_source(), *sources],
            relaxed=relaxed or [],
            tools=TOOLS,
            hosts=["docs.example.com"],
        )
    )


def context(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "input": {},
        "tool": {
            "name": "kb.read",
            "privilege": "low",
            "side_effects": False,
            "egress": False,
            "host": "",
            "host_port": "",
        },
        "profile": {"name": "p", "hosts": ["docs.example.com"]},
        "arguments": {"bytes": 2, "placeholder": False, "secret_name": False},
        "provenance": {
            "untrusted": False,
            "untrusted_arguments": [],
            "untrusted_tools": [],
            "model_arguments": [],
            "trusted_arguments": [],
        },
        "trace": {"calls": 0, "calls_to_tool": 0, "injected": False, "refused_in_a_row": 0},
    }
    for key, value in over.items():
        base[key] = {**base[key], **value}
    return base


# --- compiling -------------------------------------------------------------------------


def test_every_problem_is_named_with_file_and_line():
    text = (
        'permit(principal, action, resource);\n\n@id("x") @acton("abort")\n'
        "forbid(principal, action, resource);\nforbid(principal, action, resource) when { };\n"
    )
    with pytest.raises(DirectiveError) as caught:
        compile_sources([default_source(), level(text, "mission")])
    assert caught.value.problems[0].startswith("mission.cedar:1: a mission may only add")
    assert caught.value.problems[1].startswith("mission.cedar:3: unknown annotation(s) ['acton']")
    assert caught.value.problems[2].startswith("mission.cedar:5: not a Cedar policy")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('@id("sealed.mine") forbid(principal, action, resource);', "is reserved"),
        ('@action("ABORT") forbid(principal, action, resource);', "say one of"),
        ('@mode("sometimes") forbid(principal, action, resource);', "say enforce or log_only"),
        ('@action("abort") permit(principal, action, resource);', "applies to forbid"),
        ("permit(principal == ?principal, action, resource);", "templates"),
        (
            '@id("a") forbid(principal, action, resource);\n@id("a") forbid(principal, action, '
            "resource);",
            "already used",
        ),
    ],
)
def test_what_a_policy_may_not_say(text: str, problem: str):
    with pytest.raises(DirectiveError, match=problem):
        compile_sources([default_source(), level(text)])


def test_only_shipped_defaults_can_be_relaxed():
    with pytest.raises(DirectiveError, match="not shipped default policies"):
        compile_sources([default_source()], ["sealed.nope"])
    kept = compile_sources([default_source()], ["sealed.after-injection"])
    assert "sealed.after-injection" not in [i.id for i in kept.infos]


# --- verdicts ----------------------------------------------------------------------------


def test_a_benign_call_runs_and_the_strongest_action_decides():
    e = engine(
        level(
            '@id("alert-all") @action("alert") forbid(principal, action, resource);\n'
            '@id("no-mail") @action("deny_call") forbid(principal, action, '
            'resource == Sealed::Tool::"mail.send");\n'
            '@id("stop-mail") forbid(principal, action, resource == Sealed::Tool::"mail.send") '
            "when { context.trace.calls > 3 };"
        )
    )
    quiet = e.evaluate("call", "kb.read", context(), WHO)
    assert quiet.action is None and [f.policy for f in quiet.watched] == ["alert-all"]
    held = e.evaluate("call", "mail.send", context(), WHO)
    assert held.action == "deny_call" and [f.policy for f in held.fired] == ["no-mail"]
    stopped = e.evaluate("call", "mail.send", context(trace={"calls": 5}), WHO)
    assert [f.policy for f in stopped.fired] == ["stop-mail", "no-mail"]
    assert stopped.action == "abort"


def test_log_only_never_enforces_and_without_a_permit_nothing_runs():
    trying = engine(level("forbid(principal, action, resource);", mode="log_only"))
    verdict = trying.evaluate("call", "kb.read", context(), WHO)
    assert verdict.action is None and [f.mode for f in verdict.watched] == ["log_only"]
    # A profile that relaxed the shipped permit-all permits kb.read only; a
    # log_only forbid on kb.read must not hide that it is permitted.
    strict = engine(
        level('permit(principal, action, resource == Sealed::Tool::"kb.read");'),
        level('@mode("log_only") forbid(principal, action, resource);', "system"),
        relaxed=["sealed.permit-all"],
    )
    assert strict.evaluate("call", "kb.read", context(), WHO).action is None
    refused = strict.evaluate("call", "mail.send", context(), WHO)
    assert refused.action == "deny_call" and refused.fired[0].policy == NO_PERMIT


def test_an_evaluation_error_fails_closed():
    e = engine(
        level(
            '@id("odd") @action("deny_call") forbid(principal, action, resource) '
            "when { context.trace.calls > 1 };"
        )
    )
    verdict = e.evaluate("call", "kb.read", context(trace={"calls": "many"}), WHO)
    assert verdict.action == "deny_call"
    assert "could not be evaluated" in verdict.fired[0].reason


def test_principal_in_profile():
    e = engine(
        level(
            '@id("p-only") @action("deny_call") forbid(principal in Sealed::Profile::"p", '
            "action, resource);"
        )
    )
    assert e.evaluate("call", "kb.read", context(), WHO).action == "deny_call"
    assert e.evaluate("call", "kb.read", context(), Principal("m-2", "q")).action is None


# --- the context handed to Cedar -------------------------------------------------------------


def test_reads_finds_attribute_chains_and_has():
    infos = compile_sources(
        [
            level(
                "forbid(principal, action, resource) when { context.input has body && "
                'context.input.body like "*x*" && context.trace.tools_read.contains("a") && '
                "context.arguments == context.arguments };"
            )
        ]
    ).infos
    assert outermost(reads([i.cedar for i in infos])) == [
        ("arguments",),
        ("input", "body"),
        ("trace", "tools_read"),
    ]
    whole = compile_sources([level("forbid(principal, action, resource) when { context == {} };")])
    assert outermost(reads([i.cedar for i in whole.infos])) == [()]


CONTEXTS = st.fixed_dictionaries(
    {
        "trace": st.fixed_dictionaries(
            {
                "calls": st.integers(0, 10),
                "injected": st.booleans(),
                "tools_read": st.lists(st.sampled_from(["a", "b"]), max_size=2),
            }
        ),
        "input": st.dictionaries(
            st.sampled_from(["body", "to", "n"]), st.text(max_size=5), max_size=3
        ),
        "arguments": st.fixed_dictionaries(
            {"placeholder": st.booleans(), "secret_name": st.booleans()}
        ),
    }
)
FORBID = "forbid(principal, action, resource) when "
POLICIES = [
    FORBID + "{ context.trace.calls > 4 };",
    FORBID + '{ context.input has body && context.input.body like "*a*" };',
    FORBID + '{ context.trace.tools_read.contains("b") && context.trace.injected };',
    FORBID + "{ context.arguments.placeholder };",
    FORBID + '{ context.input.to == "x" };',
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONTEXTS, st.lists(st.sampled_from(POLICIES), min_size=1, max_size=5, unique=True))
def test_a_pruned_context_decides_as_the_whole_one(ctx: dict[str, Any], policies: list[str]):
    sources = [
        PolicySource(level="system", text="permit(principal, action, resource);", origin="a"),
        PolicySource(
            level="profile",
            text="\n".join(f'@id("p{n}") {p}' for n, p in enumerate(policies)),
            origin="b",
        ),
    ]
    e = Engine(DirectiveSet(sources=sources))
    whole = e.evaluate("call", "kb.read", ctx, WHO)
    # The same set, asked directly with the whole context: Cedar's own answer.
    part = e._set("call", "kb.read").all
    assert part.policies is not None
    import cedarpy

    request = {
        "principal": WHO.uid,
        "action": {"type": "Sealed::Action", "id": "call"},
        "resource": {"type": "Sealed::Tool", "id": "kb.read"},
        "context": ctx,
    }
    direct = cedarpy.is_authorized(request, part.policies, WHO.entities)
    forbids = {part.infos[r].id for r in direct.diagnostics.reasons if r in part.infos}
    forbids |= {part.infos[m].id for err in direct.diagnostics.errors if (m := _erring(err))}
    assert {f.policy for f in whole.fired} == forbids - {"system.a.0"}
    assert pruned(ctx, [()]) is ctx


def _erring(error: str) -> str | None:
    import re

    match = re.search(r"policy `(policy\d+)`", error)
    return match[1] if match else None


# --- facts and fuzzing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "host_port"),
    [
        ("https://Docs.Example.com/a", "docs.example.com", "docs.example.com"),
        ("https://docs.example.com:8443/a", "docs.example.com", "docs.example.com:8443"),
        ("https://docs.example.com@evil.example/", "evil.example", "evil.example"),
        ("docs.example.com", "docs.example.com", "docs.example.com"),
        ("http://[::1]:80/", "[::1]", "[::1]"),
        ("http://[::1]:8080/", "[::1]", "[::1]:8080"),
        ("https://evil.example\\\\@docs.example.com/", "evil.example", "evil.example"),
        ("https://x:99999/", "", ""),
    ],
)
def test_destination_is_the_host_the_url_names(url: str, host: str, host_port: str):
    assert destination(TOOLS["web.get"], {"url": url}) == (host, host_port)


def test_cedar_value_keeps_models_from_forging_cedar_values():
    forged = {"__entity": {"type": "Sealed::Tool", "id": "x"}, "n": 2**70, "f": 1.5, "z": None}
    assert cedar_value(forged) == {
        "___entity": {"type": "Sealed::Tool", "id": "x"},
        "n": str(2**70),
        "f": "1.5",
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
SPEC = MissionSpec.model_validate(
    {
        "name": "fuzz",
        "profile": "p",
        "goal": "help bob@example.com",
        "model": {"provider": "scripted", "script": {"turns": [{"final": "x"}]}},
        "tools": list(TOOLS),
    }
)
FUZZ_SET = DirectiveSet(
    sources=[
        default_source(),
        level(
            '@action("deny_call") forbid(principal, action, resource) when '
            '{ context.input has body && context.input.body like "*x*" };'
        ),
    ],
    tools=TOOLS,
    hosts=["docs.example.com"],
    secret_names=["api_key"],
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=10), JSON, max_size=5),
    st.sampled_from([*TOOLS, "unknown.tool"]),
    st.text(max_size=200),
)
def test_any_arguments_get_a_verdict_never_a_crash(arguments, tool, output):
    tracker = Tracker("m-fuzz", SPEC, datetime(2026, 1, 1, tzinfo=UTC))
    tracker.adopt(FUZZ_SET)
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=5)
    call = ToolCall(id="c1", name=tool, arguments=arguments)
    checked = tracker.before(call, now)
    assert checked is not None
    verdict, ctx = checked
    assert verdict.event == "call"
    after = tracker.after(call, ToolCallResult(call_id="c1", name=tool, output=output), ctx, now)
    assert after is not None and after.event == "result"


# --- trace facts ---------------------------------------------------------------------------


def test_trace_facts_count_what_the_mission_did():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tracker = Tracker("m-t", SPEC, start)
    trace = tracker.trace
    assert trace.facts(start, "kb.read")["calls"] == 0
    trace.turned(cost_microusd=1500, redactions=1)
    send = ToolCall(id="1", name="mail.send", arguments={"to": "x", "body": "hello"})
    read = ToolCall(id="2", name="kb.read", arguments={"q": "a long query"})
    trace.ran(send, ToolCallResult(call_id="1", name="mail.send", output="ok"), TOOLS["mail.send"])
    trace.ran(
        read,
        ToolCallResult(call_id="2", name="kb.read", output="x", is_error=True, redactions=2),
        TOOLS["kb.read"],
    )
    trace.refused()
    trace.refused()
    facts = trace.facts(start + timedelta(seconds=90), "mail.send")
    assert facts["calls"] == 2 and facts["calls_to_tool"] == 1 and facts["turns"] == 1
    assert facts["calls_by_tool"] == {"kb.read": 1, "mail.send": 1, "web.get": 0}
    # Only what went to a side-effecting or egress tool counts as sent out.
    assert facts["bytes_out"] == len('{"body":"hello","to":"x"}')
    assert (facts["cost_microusd"], facts["redactions"], facts["elapsed_seconds"]) == (1500, 3, 90)
    # A call that failed was called, not read.
    assert facts["tools_called"] == ["mail.send", "kb.read"] and facts["tools_read"] == [
        "mail.send"
    ]
    assert facts["refused_in_a_row"] == 2 and not facts["injected"]
    flagged = ToolCallResult(
        call_id="3", name="kb.read", output="x", flags=["instruction_override"]
    )
    trace.ran(read, flagged, TOOLS["kb.read"])
    facts = trace.facts(start, "kb.read")
    assert facts["injected"] and facts["injection_flags"] == 1 and facts["refused_in_a_row"] == 0


def test_argument_facts_find_placeholders_and_secret_names_anywhere():
    from sealed.directives.facts import argument_facts

    assert argument_facts({"a": {"b": ["[REDACTED:api_key]"]}}, ["api_key"])["placeholder"]
    assert argument_facts({"note": "the API_KEY is"}, ["api_key"])["secret_name"]
    assert argument_facts({"api_key": 1}, ["api_key"])["secret_name"]  # in a key too
    clean = argument_facts({"note": "REDACTED is a word"}, ["api_key"])
    assert not clean["placeholder"] and not clean["secret_name"]


def test_arguments_nested_past_the_stack_get_a_verdict():
    deep: Any = "alice@example.com"
    for _ in range(5000):
        deep = {"a": deep}
    tracker = Tracker("m-deep", SPEC, datetime(2026, 1, 1, tzinfo=UTC))
    tracker.adopt(FUZZ_SET)
    checked = tracker.before(
        ToolCall(id="1", name="mail.send", arguments={"body": deep}),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert checked is not None and checked[0].event == "call"


def test_an_egress_list_nothing_enforces_is_refused():
    from sealed.identity.profiles import Profile

    relaxed = {"relax": ["sealed.egress-allowlist", "sealed.untrusted-egress"]}
    with pytest.raises(ValueError, match="egress: nothing enforces it"):
        Profile.model_validate({"name": "p", "egress": ["docs.example.com"], "directives": relaxed})
    Profile.model_validate({"name": "p", "directives": relaxed})  # no list: nothing promised
    Profile.model_validate(
        {"name": "p", "egress": ["docs.example.com"], "directives": {"relax": relaxed["relax"][:1]}}
    )
