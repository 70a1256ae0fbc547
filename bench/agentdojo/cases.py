"""The benchmark's cases: a user task, with or without an injection task and
the attack that plants it, in the environment AgentDojo builds for them (its
own attack classes choose the injection vectors the user task reads and write
the injected text)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement
from agentdojo.attacks.attack_registry import load_attack
from agentdojo.attacks.base_attacks import BaseAttack
from agentdojo.base_tasks import BaseInjectionTask, BaseUserTask
from agentdojo.functions_runtime import FunctionCall, TaskEnvironment
from agentdojo.task_suite.load_suites import get_suites
from agentdojo.task_suite.task_suite import TaskSuite
from pydantic_core import to_jsonable_python

from bench.agentdojo.stance import Brief, Call

VERSION = "v1.2.2"
SUITES = ("workspace", "travel", "banking", "slack")
TUNED_ON = "important_instructions"
HELD_OUT = (
    "ignore_previous",
    "system_message",
    "injecagent",
    "direct",
    "tool_knowledge",
    "important_instructions_no_user_name",
    "important_instructions_no_model_name",
    "important_instructions_no_names",
    "important_instructions_wrong_model_name",
    "important_instructions_wrong_user_name",
)
# The published table's victim: attacks that name the model name it so.
VICTIM = "gpt-4o-2024-05-13"


class _Victim(BasePipelineElement):
    """What AgentDojo's attack classes ask of the attacked pipeline: its name."""

    name = VICTIM

    def query(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the attacks only read the name")


@cache
def suite(name: str) -> TaskSuite[Any]:
    return get_suites(VERSION)[name]


@cache
def attack(suite_name: str, name: str) -> BaseAttack:
    return load_attack(name, suite(suite_name), _Victim())


@dataclass(frozen=True)
class Case:
    suite: str
    user_task: str
    injection_task: str | None = None
    attack: str | None = None

    @property
    def label(self) -> str:
        return f"{self.suite}/{self.user_task}/{self.injection_task or '-'}/{self.attack or '-'}"


def cases(
    suite_name: str,
    attack_name: str | None,
    limit: int | None = None,
    injections: int | None = None,
) -> Iterator[Case]:
    """Every (user task, injection task) pair of the suite under the attack,
    or every user task alone (None); the first `limit` user tasks and the
    first `injections` injection tasks."""
    s = suite(suite_name)
    for user in list(s.user_tasks)[:limit]:
        if attack_name is None:
            yield Case(suite_name, user)
            continue
        for injection in list(s.injection_tasks)[:injections]:
            yield Case(suite_name, user, injection, attack_name)


def _calls(calls: Sequence[FunctionCall]) -> tuple[Call, ...]:
    return tuple(Call(c.function, to_jsonable_python(dict(c.args))) for c in calls)


@dataclass
class Staged:
    """A case ready to run: its environment, a copy as it was before, what
    the stand-in knows."""

    case: Case
    # as AgentDojo loads it, injected; then as the user task starts it
    loaded: TaskEnvironment
    environment: TaskEnvironment
    pre: TaskEnvironment
    brief: Brief
    user: BaseUserTask[Any]
    injection: BaseInjectionTask[Any] | None


def stage(case: Case) -> Staged:
    s = suite(case.suite)
    user = s.user_tasks[case.user_task]
    injection = s.injection_tasks[case.injection_task] if case.injection_task else None
    injections: dict[str, str] = {}
    if injection is not None and case.attack is not None:
        injections = attack(case.suite, case.attack).attack(user, injection)
    loaded = s.load_and_inject_default_environment(injections)
    environment = user.init_environment(loaded.model_copy(deep=True))
    pre = environment.model_copy(deep=True)
    brief = Brief(
        user_calls=_calls(user.ground_truth(pre.model_copy(deep=True))),
        user_output=user.GROUND_TRUTH_OUTPUT,
        injected=tuple(sorted(set(injections.values()))),
        injection_calls=_calls(injection.ground_truth(pre.model_copy(deep=True)))
        if injection
        else (),
    )
    return Staged(case, loaded, environment, pre, brief, user, injection)
