"""The stand-in model inside AgentDojo's own runtime, with no Sealed at all:
a pipeline element (like AgentDojo's GroundTruthPipeline, whose calls it
makes) that takes the same decisions as the Sealed provider. What it scores
is what the benchmark itself says the stand-in achieves; the bridge with no
controls must score the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentdojo.agent_pipeline.agent_pipeline import AgentPipeline
from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement
from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline
from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
from agentdojo.functions_runtime import EmptyEnv, Env, FunctionCall, FunctionsRuntime
from agentdojo.types import (
    ChatAssistantMessage,
    ChatMessage,
    ChatToolResultMessage,
    ChatUserMessage,
    text_content_block_from_string,
)

from bench.agentdojo.cases import Staged, suite
from bench.agentdojo.scoring import Score
from bench.agentdojo.stance import Brief, Output, Stance, decide

_EMPTY = EmptyEnv()
# A stand-in follows at most the two ground truths: this bounds a bug.
_MAX_CALLS = 200


class StandInPipeline(BasePipelineElement):
    name = "sealed-stand-in"

    def __init__(self, brief: Brief, stance: Stance = "obedient") -> None:
        self._brief = brief
        self._stance = stance

    def query(
        self,
        query: str,
        runtime: FunctionsRuntime,
        env: Env = _EMPTY,
        messages: Sequence[ChatMessage] = (),
        extra_args: dict[str, Any] = {},  # noqa: B006 (AgentDojo's signature)
    ) -> tuple[str, FunctionsRuntime, Env, Sequence[ChatMessage], dict[str, Any]]:
        out: list[ChatMessage] = [
            *messages,
            ChatUserMessage(role="user", content=[text_content_block_from_string(query)]),
        ]
        outputs: list[Output] = []
        made = {"usr": 0, "inj": 0}
        for _ in range(_MAX_CALLS):
            step = decide(self._brief, self._stance, outputs, made["usr"], made["inj"])
            if step.call is None or step.kind is None:
                break
            made[step.kind] += 1
            call = FunctionCall(function=step.call.function, args=dict(step.call.args))
            out.append(
                ChatAssistantMessage(
                    role="assistant",
                    content=[text_content_block_from_string("")],
                    tool_calls=[call],
                )
            )
            result, error = runtime.run_function(env, call.function, call.args)
            text = error if error is not None else tool_result_to_str(result)
            outputs.append(Output(text))
            out.append(
                ChatToolResultMessage(
                    role="tool",
                    content=[text_content_block_from_string(text)],
                    tool_call=call,
                    tool_call_id=None,
                    error=error,
                )
            )
        else:
            raise RuntimeError("the stand-in did not finish")
        out.append(
            ChatAssistantMessage(
                role="assistant",
                content=[text_content_block_from_string(self._brief.user_output)],
                tool_calls=None,
            )
        )
        return query, runtime, env, out, extra_args


def _run(staged: Staged, pipeline: BasePipelineElement) -> Score:
    """The case run by AgentDojo itself (`run_task_with_pipeline`)."""
    s = suite(staged.case.suite)
    utility, security = s.run_task_with_pipeline(
        pipeline,
        staged.user,
        staged.injection,
        injections={},
        environment=staged.loaded.model_copy(deep=True),
    )
    return Score(utility, security if staged.injection is not None else None)


def reference_score(staged: Staged, stance: Stance = "obedient") -> Score:
    """The stand-in inside AgentDojo's runtime."""
    return _run(staged, StandInPipeline(staged.brief, stance))


def ground_truth_score(staged: Staged) -> Score:
    """The case as AgentDojo's own pieces alone define an obedient model: its
    `GroundTruthPipeline` for the injection task (when there is one), then for
    the user task. None of our code decides a call here, so this checks the
    stand-in itself. Under attack only attack success compares: the
    injection's calls come first, not where the stand-in reads them."""
    steps = [GroundTruthPipeline(t) for t in (staged.injection, staged.user) if t is not None]
    return _run(staged, AgentPipeline(steps))
