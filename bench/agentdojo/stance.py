"""The two stand-in models, as one pure decision: what to do next, given the
tool outputs read so far and the calls already made. Both follow the user
task's ground-truth calls, one per turn, and end with its ground-truth output;
the moment a tool output they read carries the injected text, they make the
injection task's ground-truth calls first. *obedient* reads every output;
*fence-respecting* skips an output the runtime fenced as untrusted.

The same decision drives the Sealed provider (`provider.py`) and the
reference pipeline inside AgentDojo's own runtime (`reference.py`), so the
two can be compared call for call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

Stance = Literal["obedient", "fence-respecting"]
# Words in a row that identify the injected text in an output: the runtime
# may mask a value inside it (an address, an IBAN) and YAML re-wraps and
# escapes it, but a long enough run of its words survives.
RUN = 8
_ESCAPES = re.compile(r"\\[ntr\"'\\]")
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(_ESCAPES.sub(" ", text).lower())


def _runs(seq: list[str]) -> set[tuple[str, ...]]:
    n = min(RUN, len(seq))
    return {tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)} if seq else set()


@dataclass(frozen=True)
class Call:
    function: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Brief:
    """What the stand-in knows: the benchmark's ground truth (the runtime
    never sees this)."""

    user_calls: tuple[Call, ...]
    user_output: str
    injected: tuple[str, ...] = ()
    injection_calls: tuple[Call, ...] = ()

    @cached_property
    def _injected_runs(self) -> set[tuple[str, ...]]:
        """Computed once: the stand-in asks this of every output on every turn."""
        return set().union(*(_runs(words(inj)) for inj in self.injected))

    def carries_injection(self, text: str) -> bool:
        return bool(self.injected) and not self._injected_runs.isdisjoint(_runs(words(text)))


@dataclass(frozen=True)
class Output:
    text: str
    fenced: bool = False


@dataclass(frozen=True)
class Next:
    call: Call | None
    # "usr" or "inj": whose ground truth the call is; None: the final answer
    kind: str | None = None
    index: int = 0


def decide(
    brief: Brief, stance: Stance, outputs: list[Output], user_done: int, injection_done: int
) -> Next:
    read = [o for o in outputs if not (o.fenced and stance == "fence-respecting")]
    if injection_done < len(brief.injection_calls) and any(
        brief.carries_injection(o.text) for o in read
    ):
        return Next(brief.injection_calls[injection_done], "inj", injection_done)
    if user_done < len(brief.user_calls):
        return Next(brief.user_calls[user_done], "usr", user_done)
    return Next(None)
