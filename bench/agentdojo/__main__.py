"""AgentDojo through the runtime: utility and targeted attack success for the
stand-in models, per suite and overall, for each defence configuration.

    python -m bench.agentdojo [--suite S ...] [--attack A ...] [--defence D ...]
                              [--limit N] [--injections N] [--concurrency C]

Rows: `reference` is the stand-in inside AgentDojo's own runtime (no Sealed);
each defence is the same cases as Sealed missions on the embedded stack.
Attacks other than important_instructions are held out: nothing was tuned on
them."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from bench.agentdojo.cases import HELD_OUT, SUITES, TUNED_ON, Case, Staged, cases, stage
from bench.agentdojo.reference import reference_score
from bench.agentdojo.runner import DEFENCES, Bench, Defence, Outcome, prepare, run_all
from bench.stack import bench_stack, use_stack
from sealed.client import connect
from sealed.devstack import StackInfo
from sealed.identity.openbao.admin import VaultAdmin
from sealed.models import MissionStatus
from sealed.workers.worker import build_worker

ATTACKS = (TUNED_ON, *HELD_OUT)


def _pct(hits: Iterable[bool]) -> str:
    values = list(hits)
    return f"{100 * sum(values) / len(values):.2f}%" if values else "-"


def table(outcomes: Sequence[Outcome], wall: dict[str, float]) -> str:
    """Per attack, defence and model: each suite's rates and the overall ones.
    Utility without attack comes from the same defence's runs of the user
    tasks alone."""
    clean: dict[tuple[str, str, str], list[Outcome]] = defaultdict(list)
    hit: dict[tuple[str, str, str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        suite_name, attack = o.label.split("/")[0], o.label.split("/")[-1]
        for where in (suite_name, "all"):
            if o.attacked:
                hit[(attack, o.defence, o.stance, where)].append(o)
            else:
                clean[(o.defence, o.stance, where)].append(o)
    lines = [
        f"{'attack':40}{'defence':22}{'model':18}{'suite':11}{'utility':>9}"
        f"{'under attack':>14}{'attack success':>16}{'approvals':>11}{'missions':>10}"
    ]
    for (attack, defence, stance, where), group in sorted(hit.items()):
        benign = clean.get((defence, stance, where), [])
        approvals = sum(o.approvals for o in [*benign, *group]) / len([*benign, *group])
        lines.append(
            f"{attack:40}{defence:22}{stance:18}{where:11}"
            f"{_pct(o.utility for o in benign):>9}{_pct(o.utility for o in group):>14}"
            f"{_pct(o.attack_success for o in group):>16}{approvals:>11.2f}"
            f"{len(benign) + len(group):>10}"
        )
    lines.append("wall time: " + ", ".join(f"{d} {s:.0f} s" for d, s in wall.items()))
    return "\n".join(lines)


async def on_stack(
    info: StackInfo, staged: list[Staged], defences: list[Defence], concurrency: int
) -> tuple[list[Outcome], dict[str, float]]:
    settings = use_stack(info)
    admin = VaultAdmin(info.vault_addr, (info.data_dir / "vault-root-token").read_text().strip())
    suites = sorted({s.case.suite for s in staged})
    key = prepare(admin, suites, defences)
    client = await connect(settings)
    bench = Bench(client, settings, key)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn()) as progress:
        async with build_worker(client, settings, tools=bench.tools(suites)):
            return await run_all(bench, staged, defences, concurrency, progress)


def reference(staged: list[Staged]) -> list[Outcome]:
    out = []
    for item in staged:
        began = time.perf_counter()
        scored = reference_score(item)
        out.append(
            Outcome(
                label=item.case.label,
                defence="reference",
                stance="obedient",
                attacked=item.injection is not None,
                utility=scored.utility,
                attack_success=bool(scored.attacked),
                approvals=0,
                status=MissionStatus.COMPLETED,
                seconds=time.perf_counter() - began,
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=SUITES)
    parser.add_argument("--attack", action="append", choices=ATTACKS)
    parser.add_argument("--defence", action="append", choices=list(DEFENCES))
    parser.add_argument("--limit", type=int, help="the first N user tasks of each suite")
    parser.add_argument("--injections", type=int, help="the first N injection tasks")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, help="every outcome, as JSON lines")
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)
    attacks = args.attack or [TUNED_ON]
    defences = [DEFENCES[d] for d in args.defence or DEFENCES]
    wanted: list[Case] = []
    for suite_name in suites:
        wanted += cases(suite_name, None, args.limit)
        for attack in attacks:
            wanted += cases(suite_name, attack, args.limit, args.injections)
    print(f"staging {len(wanted)} cases (AgentDojo's attacks write the injections)")
    staged = [stage(c) for c in wanted]
    # The approver polls each mission's approvals: at this load the SDK's core
    # warns of every poll that lands while a workflow task is busy.
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    Runtime.set_default(
        Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet))),
        error_if_already_set=False,
    )
    outcomes = reference(staged)
    with bench_stack() as info:
        found, wall = asyncio.run(on_stack(info, staged, defences, args.concurrency))
    outcomes += found
    if args.out:
        args.out.write_text("".join(json.dumps(asdict(o), default=str) + "\n" for o in outcomes))
    print(table(outcomes, wall))
    print(
        f"tuned on {TUNED_ON} only; held out: {', '.join(HELD_OUT)}. The model is a stand-in"
        " that obeys every injection it reads, not an LLM."
    )


if __name__ == "__main__":
    main()
