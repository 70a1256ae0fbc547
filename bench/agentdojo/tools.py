"""Each AgentDojo suite's functions as Sealed tools (`<suite>.<function>`),
run by AgentDojo's own FunctionsRuntime against the environment of the
mission that calls them, which the worker keeps (one per mission)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
from agentdojo.functions_runtime import Function, FunctionCall, FunctionsRuntime, TaskEnvironment
from agentdojo.task_suite.task_suite import TaskSuite
from pydantic import BaseModel

from bench.agentdojo.operator import OPERATORS
from sealed.tools.registry import ToolContext, ToolDef, ToolError


@dataclass
class MissionWorld:
    """One mission's environment, and the calls that really ran in it."""

    environment: TaskEnvironment
    ran: list[FunctionCall] = field(default_factory=list)
    # idempotency key -> output: a retried activity does not act twice
    outputs: dict[str, str] = field(default_factory=dict)


class Worlds:
    def __init__(self) -> None:
        self._worlds: dict[str, MissionWorld] = {}

    def open(self, mission_id: str, environment: TaskEnvironment) -> MissionWorld:
        world = self._worlds[mission_id] = MissionWorld(environment)
        return world

    def close(self, mission_id: str) -> MissionWorld:
        return self._worlds.pop(mission_id)

    def of(self, mission_id: str) -> MissionWorld:
        try:
            return self._worlds[mission_id]
        except KeyError:
            raise ToolError(f"no AgentDojo environment for mission {mission_id}") from None


def tool_name(suite: str, function: str) -> str:
    return f"{suite}.{function}"


def function_name(tool: str) -> str:
    return tool.split(".", 1)[1]


def _runner(worlds: Worlds, runtime: FunctionsRuntime, function: Function) -> Any:
    async def run(ctx: ToolContext, args: BaseModel) -> str:
        world = worlds.of(ctx.mission_id)
        done = world.outputs.get(ctx.idempotency_key)
        if done is not None:
            return done
        arguments = args.model_dump()
        world.ran.append(FunctionCall(function=function.name, args=arguments))
        result, error = runtime.run_function(world.environment, function.name, arguments)
        if error is not None:
            raise ToolError(error)
        output: str = tool_result_to_str(result)
        world.outputs[ctx.idempotency_key] = output
        return output

    return run


def suite_tools(suite: TaskSuite[Any], worlds: Worlds) -> dict[str, ToolDef]:
    operator = OPERATORS[suite.name]
    runtime = FunctionsRuntime(suite.tools)
    tools = {}
    for function in suite.tools:
        name = tool_name(suite.name, function.name)
        acts = function.name in operator.side_effects
        tools[name] = ToolDef(
            name=name,
            privilege="high" if acts else "low",
            secrets=(),
            side_effects=acts,
            description=function.description,
            args_model=function.parameters,
            fn=_runner(worlds, runtime, function),
            destination=operator.destinations.get(function.name),
        )
    return tools
