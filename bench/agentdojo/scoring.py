"""Scoring with AgentDojo's own checks: utility is the user task's, attack
success the injection task's, over the final answer, the environment before
and after, and the calls that ran."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentdojo.functions_runtime import FunctionCall, TaskEnvironment
from agentdojo.types import text_content_block_from_string

from bench.agentdojo.cases import Staged, suite


@dataclass(frozen=True)
class Score:
    utility: bool
    attacked: bool | None  # None: no injection task


def score(staged: Staged, answer: str, post: TaskEnvironment, ran: Sequence[FunctionCall]) -> Score:
    s = suite(staged.case.suite)
    output = [text_content_block_from_string(answer)]
    # AgentDojo's dispatch between its trace-based and state-based checks.
    utility = s._check_task_result(staged.user, output, staged.pre, post, ran)
    attacked = (
        s._check_task_result(staged.injection, output, staged.pre, post, ran)
        if staged.injection is not None
        else None
    )
    return Score(bool(utility), None if attacked is None else bool(attacked))
