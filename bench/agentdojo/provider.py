"""The stand-in models as a Sealed model provider (`provider: agentdojo`,
`parameters: {stance: obedient | fence-respecting}`), registered in the
process that runs the bench's worker. Its knowledge (the Brief) is kept here,
by mission, never in the mission's input: the runtime cannot read it."""

from __future__ import annotations

from collections.abc import Mapping

from bench.agentdojo.stance import Brief, Output, Stance, decide
from sealed.identity.backend import SecretValue
from sealed.llm.base import ModelConfigError, register_provider
from sealed.models import ModelReply, ModelRequest, ToolCall
from sealed.redaction.injection.fence import is_fenced

PROVIDER = "agentdojo"
BRIEFS: dict[str, Brief] = {}


class StandIn:
    def __init__(self, suite_of: Mapping[str, str]) -> None:
        # mission id -> suite, for the tool names (`<suite>.<function>`)
        self._suite_of = suite_of

    async def complete(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue]
    ) -> ModelReply:
        brief = BRIEFS.get(request.mission_id)
        if brief is None:
            raise ModelConfigError(f"no AgentDojo brief for mission {request.mission_id}")
        stance: Stance = request.model.parameters.get("stance", "obedient")
        outputs = [
            Output(m.content, fenced=is_fenced(m.content))
            for m in request.conversation
            if m.role == "tool"
        ]
        made = [c.id.split("-")[0] for m in request.conversation for c in m.tool_calls]
        step = decide(brief, stance, outputs, made.count("usr"), made.count("inj"))
        if step.call is None:
            return ModelReply(content=brief.user_output)
        suite = self._suite_of[request.mission_id]
        return ModelReply(
            tool_calls=[
                ToolCall(
                    id=f"{step.kind}-{step.index}",
                    name=f"{suite}.{step.call.function}",
                    arguments=step.call.args,
                )
            ]
        )


SUITE_OF: dict[str, str] = {}
register_provider(PROVIDER, lambda: StandIn(SUITE_OF))
