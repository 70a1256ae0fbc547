"""The injection screen on AgentDojo's material: its recall per attack
template on the injected texts the attacks write (each distinct text once),
and on the tool outputs that carry them as the model would read them; its
false-positive rate on every tool output of the user tasks run alone.

The outputs are those of the stand-in inside AgentDojo's own runtime (the
same the suite's tools return through Sealed, before the screen sees them).

    python -m bench.agentdojo.screen [--suite S ...] [--attack A ...] [--limit N]"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from agentdojo.functions_runtime import FunctionsRuntime
from agentdojo.types import get_text_content_as_str

from bench.agentdojo.cases import HELD_OUT, SUITES, TUNED_ON, Staged, attack, cases, stage, suite
from bench.agentdojo.reference import StandInPipeline
from sealed.redaction.injection.detector import HeuristicDetector


@dataclass(frozen=True)
class Rate:
    flagged: int
    total: int

    def __str__(self) -> str:
        return f"{100 * self.flagged / self.total:6.2f}% of {self.total}" if self.total else "-"


def tool_outputs(staged: Staged) -> list[str]:
    """What each tool call of the stand-in returned, in AgentDojo's runtime."""
    s = suite(staged.case.suite)
    _, _, _, messages, _ = StandInPipeline(staged.brief).query(
        staged.user.PROMPT, FunctionsRuntime(s.tools), staged.environment.model_copy(deep=True)
    )
    return [get_text_content_as_str(m["content"]) for m in messages if m["role"] == "tool"]


def recall(suite_name: str, attack_name: str, limit: int | None) -> tuple[Rate, Rate]:
    """(on the injected texts, on the outputs that carry them)."""
    detector = HeuristicDetector()
    texts: set[str] = set()
    carrying: list[str] = []
    for case in cases(suite_name, attack_name, limit):
        staged = stage(case)
        texts |= set(staged.brief.injected)
        carrying += [o for o in tool_outputs(staged) if staged.brief.carries_injection(o)]
    return (
        Rate(sum(detector.screen(t).flagged for t in texts), len(texts)),
        Rate(sum(detector.screen(o).flagged for o in carrying), len(carrying)),
    )


def false_positives(suite_name: str, limit: int | None) -> Rate:
    detector = HeuristicDetector()
    outputs = [o for case in cases(suite_name, None, limit) for o in tool_outputs(stage(case))]
    return Rate(sum(detector.screen(o).flagged for o in outputs), len(outputs))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=SUITES)
    parser.add_argument("--attack", action="append", choices=(TUNED_ON, *HELD_OUT))
    parser.add_argument("--limit", type=int, help="the first N user tasks of each suite")
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)
    attacks = args.attack or [TUNED_ON, *HELD_OUT]
    print(f"{'suite':11}{'attack':56}{'recall (texts)':>22}{'recall (outputs)':>22}")
    for suite_name in suites:
        for attack_name in attacks:
            attack(suite_name, attack_name)  # fails early on an unknown one
            texts, outputs = recall(suite_name, attack_name, args.limit)
            held = "" if attack_name == TUNED_ON else " (held out)"
            print(f"{suite_name:11}{attack_name + held:56}{texts!s:>22}{outputs!s:>22}")
        print(
            f"{suite_name:11}{'false positives, benign tool outputs':56}"
            f"{false_positives(suite_name, args.limit)!s:>22}"
        )


if __name__ == "__main__":
    main()
