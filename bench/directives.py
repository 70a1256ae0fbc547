"""Directive evaluation cost (issue: Sealed V): what a mission pays per event
(a call about to run, a result just back) to be judged by 50 Cedar policies,
next to the same events judged by the shipped defaults alone, side by side in
this process; target: evaluation under 100 µs per event with 50 policies.

Rows: the evaluation (the engine, every request one Cedar has not seen: the
figure judged); everything the workflow does per event (trace facts,
provenance of the arguments, the context, the evaluation) as a mission runs
it, requests it already put answered from memory, and with nothing
remembered; and, for scale, Cedar's parse of the policies on every event.

    python -m bench.directives [--rounds 7] [--events 200]

A missed target prints FAIL but exits 0; a run whose verdicts are not what
the policies say raises."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import cedarpy

from sealed.directives.engine import Engine, Principal
from sealed.directives.policies import (
    DirectiveSet,
    PolicySource,
    ToolFacts,
    default_source,
)
from sealed.directives.tracker import Tracker
from sealed.models import MissionSpec, ToolCall, ToolCallResult

TARGET_US = 100.0
TOOLS = {
    "tickets.list": ToolFacts(privilege="low", side_effects=False),
    "tickets.read": ToolFacts(privilege="low", side_effects=False),
    "tickets.comment": ToolFacts(privilege="high", side_effects=True),
    "http.fetch": ToolFacts(privilege="low", side_effects=False, destination="url"),
}


def fifty_policies() -> str:
    """44 policies a team might write, beside the 6 shipped ones: per-tool
    limits, argument checks, trace budgets, provenance, result checks."""
    rules = []
    for n in range(11):
        rules += [
            f'@id("calls-{n}") @action("deny_call")\n'
            f'forbid(principal, action == Sealed::Action::"call", resource == '
            f'Sealed::Tool::"tickets.read") when {{ context.trace.calls_to_tool > {100 + n} }};',
            f'@id("body-{n}") @action("deny_call")\n'
            f'forbid(principal, action == Sealed::Action::"call", resource == '
            f'Sealed::Tool::"tickets.comment") when {{ context.input has body && '
            f'context.input.body like "*forbidden-word-{n}*" }};',
            f'@id("budget-{n}") @action("alert")\n'
            f"forbid(principal, action, resource) when {{ context.trace.cost_microusd > "
            f"{1_000_000 * (n + 1)} || context.trace.bytes_out > {10_000_000 + n} }};",
            f'@id("output-{n}") @action("deny_call")\n'
            f'forbid(principal, action == Sealed::Action::"result", resource) when '
            f"{{ context.output.bytes > {50_000_000 + n} && context.provenance.untrusted_tools"
            f'.contains("tickets.read") }};',
        ]
    return "\n".join(rules)


def directive_set(extra: str) -> DirectiveSet:
    sources = [default_source()]
    if extra:
        sources.append(PolicySource(level="profile", text=extra, origin="bench.cedar"))
    return DirectiveSet(
        sources=sources, tools=TOOLS, hosts=["docs.example.com"], secret_names=["tickets_token"]
    )


SPEC = MissionSpec.model_validate(
    {
        "name": "bench",
        "profile": "bench",
        "goal": "Triage the queue and comment on ticket 1 for bob@example.com.",
        "model": {"provider": "scripted", "script": {"turns": [{"final": "x"}]}},
        "tools": list(TOOLS),
    }
)
TICKET = (
    '{"id": 1, "title": "Cannot log in after password reset", "reporter": '
    '"alice@example.com", "body": "I reset my password this morning and the reset link '
    "worked, but logging in with the new password says 'invalid credentials'. "
    'Invoice INV-2291, account 4455667788."' + ', "comments": []}'
)
CALLS = [
    ToolCall(id="c0", name="tickets.list", arguments={}),
    ToolCall(id="c1", name="tickets.read", arguments={"ticket_id": 1}),
    ToolCall(
        id="c2",
        name="tickets.comment",
        arguments={"ticket_id": 1, "body": "Triage: identity team, priority high."},
    ),
    ToolCall(id="c3", name="http.fetch", arguments={"url": "https://docs.example.com/reset"}),
]


def run_events(directives: DirectiveSet, events: int, remember: bool = True) -> float:
    """Seconds per event for the whole per-event path of the workflow."""
    started = datetime(2026, 1, 1, tzinfo=UTC)
    tracker = Tracker("mission-bench", SPEC, started)
    tracker.adopt(directives, Engine(directives, remember=remember))
    now = started
    done = 0
    begin = time.perf_counter()
    while done < events:
        for n, call in enumerate(CALLS):
            now += timedelta(seconds=1)
            checked = tracker.before(call.model_copy(update={"id": f"{done}-{n}"}), now)
            assert checked is not None
            verdict, context = checked
            if verdict.action is not None:
                raise SystemExit(f"a benign call was judged {verdict.action}: {verdict.fired}")
            result = ToolCallResult(call_id=call.id, name=call.name, output=TICKET)
            after = tracker.after(call, result, context, now)
            assert after is not None and after.action is None, after
            done += 2
    return (time.perf_counter() - begin) / done


def cedar_only(directives: DirectiveSet, events: int) -> float:
    """Seconds per event for the evaluation alone, over a realistic context,
    each request a new one (it names another host, which this call, not an
    egress, never sends to)."""
    started = datetime(2026, 1, 1, tzinfo=UTC)
    tracker = Tracker("mission-bench", SPEC, started)
    tracker.adopt(directives)
    tracker.after(
        CALLS[1], ToolCallResult(call_id="c1", name="tickets.read", output=TICKET), {}, started
    )
    checked = tracker.before(CALLS[2], started)
    assert checked is not None
    _, context = checked
    engine, who = Engine(directives), Principal("mission-bench", "bench")
    contexts = [
        {**context, "tool": {**context["tool"], "host": f"h{n}.test", "host_port": f"h{n}.test"}}
        for n in range(events)
    ]
    begin = time.perf_counter()
    for each in contexts:
        verdict = engine.evaluate("call", "tickets.comment", each, who)
    if verdict.action is not None:
        raise SystemExit(f"the benign call was judged {verdict.action}")
    return (time.perf_counter() - begin) / events


def reparsed(directives: DirectiveSet, events: int) -> float:
    """Seconds per event if the policies were parsed on every event."""
    text = "\n".join(source.text for source in directives.sources)
    request = {
        "principal": {"type": "Sealed::Mission", "id": "m"},
        "action": {"type": "Sealed::Action", "id": "call"},
        "resource": {"type": "Sealed::Tool", "id": "tickets.list"},
        "context": {},
    }
    begin = time.perf_counter()
    for _ in range(events):
        cedarpy.is_authorized(request, text, [])
    return (time.perf_counter() - begin) / events


def median_us(
    measure: Callable[[DirectiveSet, int], float], d: DirectiveSet, args: argparse.Namespace
) -> float:
    return statistics.median(measure(d, args.events) for _ in range(args.rounds)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    defaults, fifty = directive_set(""), directive_set(fifty_policies())
    count = len(Engine(fifty).infos)
    if count != 50:
        raise SystemExit(f"the bench set holds {count} policies, not 50")
    # Interleaved: a busy spell of this 2-core machine lands on both sets alike.
    kinds = ("cedar", "full", "cold")
    results: dict[tuple[str, str], list[float]] = {
        (k, s): [] for k in kinds for s in ("defaults", "fifty")
    }
    for _ in range(args.rounds):
        for name, chosen in (("defaults", defaults), ("fifty", fifty)):
            results[("cedar", name)].append(cedar_only(chosen, args.events) * 1e6)
            results[("full", name)].append(run_events(chosen, args.events) * 1e6)
            results[("cold", name)].append(run_events(chosen, args.events, False) * 1e6)
    med = {k: statistics.median(v) for k, v in results.items()}
    parse = statistics.median(reparsed(fifty, 50) * 1e6 for _ in range(3))
    labels = {
        "cedar": "evaluation, each request new",
        "full": "whole path, as a mission runs",
        "cold": "whole path, nothing remembered",
    }
    print(f"directive evaluation, median of {args.rounds} rounds of {args.events} events")
    print(f"{'':32}{'6 (defaults)':>14}{'50 policies':>14}{'ratio':>8}")
    for kind in kinds:
        base, full = med[(kind, "defaults")], med[(kind, "fifty")]
        print(f"{labels[kind]:32}{base:>11.0f} µs{full:>11.0f} µs{full / base:>7.2f}x")
    cedar = med[("cedar", "fifty")]
    print(f"{'policies parsed on every event':32}{'':>14}{parse:>11.0f} µs{parse / cedar:>7.1f}x")
    verdict = "ok" if cedar < TARGET_US else "FAIL"
    print(f"target: evaluation under {TARGET_US:.0f} µs per event with 50 policies: {verdict}")


if __name__ == "__main__":
    main()
