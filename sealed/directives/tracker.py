"""A mission's directives as it runs: the trace facts, the provenance index and
the engine, fed each turn, call and result in order. Pure: the workflow feeds
it live (sealed.workflows.directives), `sealed directives test` feeds it a
finished mission's recorded history, and both get the same verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sealed.directives.engine import Engine, Principal, Verdict, engine_for
from sealed.directives.facts import Trace, call_context, result_context
from sealed.directives.policies import DirectiveSet, ToolFacts
from sealed.directives.provenance import ProvenanceIndex
from sealed.models import MissionSpec, ModelTurnOutput, ToolCall, ToolCallResult


class Tracker:
    def __init__(self, mission_id: str, spec: MissionSpec, started: datetime) -> None:
        self._mission_id = mission_id
        self._profile = spec.profile
        self.directives: DirectiveSet | None = None
        self.digest: str | None = None
        self._engine: Engine | None = None
        self._principal: Principal | None = None
        self.trace = Trace(started, spec.tools)
        self._index = ProvenanceIndex()
        self._index.add_trusted(spec.system_prompt, "prompt")
        self._index.add_trusted(spec.goal, "prompt")

    def adopt(self, directives: DirectiveSet | None, engine: Engine | None = None) -> None:
        """The set a model turn found (None: unchanged, or a history recorded
        before directives); DirectiveError if it cannot be used. `engine`
        evaluates other policies over the same facts (`directives test`)."""
        if directives is None:
            return
        digest = directives.digest()
        if digest == self.digest:
            return
        self._engine = engine or engine_for(directives, digest)
        self.directives, self.digest = directives, digest
        for host in directives.hosts:
            self._index.add_trusted(host, "profile")

    def _tool(self, name: str) -> ToolFacts:
        known = self.directives.tools if self.directives else {}
        return known.get(name, ToolFacts())

    def _who(self) -> Principal:
        if self._principal is None:
            self._principal = Principal(self._mission_id, self._profile)
        return self._principal

    def turned(self, reply: ModelTurnOutput, model: str, now: datetime) -> Verdict | None:
        """A model turn's verdict, its reply counted, before any of its calls
        runs (None: the mission has no directives)."""
        self.trace.turned(reply.cost_microusd, reply.redactions)
        if self._engine is None or self.directives is None:
            return None
        context = {
            "profile": {"name": self._profile, "hosts": list(self.directives.hosts)},
            "trace": self.trace.facts(now, ""),
            "reply": {
                "bytes": len(reply.content.encode()),
                "final": reply.is_final,
                "tool_calls": len(reply.tool_calls),
                "tools": sorted({call.name for call in reply.tool_calls}),
                "redactions": reply.redactions,
                "cost_microusd": reply.cost_microusd,
            },
        }
        return self._engine.evaluate("turn", model, context, self._who())

    def before(self, call: ToolCall, now: datetime) -> tuple[Verdict, dict[str, Any]] | None:
        """The call's verdict and the context it was reached with (None: the
        mission has no directives)."""
        if self._engine is None or self.directives is None:
            return None
        context = call_context(
            self.directives,
            self._profile,
            call,
            self._index.trace(call.arguments),
            self.trace.facts(now, call.name),
        )
        return self._engine.evaluate("call", call.name, context, self._who()), context

    def after(
        self,
        call: ToolCall,
        result: ToolCallResult,
        context: dict[str, Any] | None,
        now: datetime,
    ) -> Verdict | None:
        """The result's verdict, with the trace counting the call."""
        self.trace.ran(call, result, self._tool(call.name))
        if self._engine is None or context is None:
            return None
        self._index.add_output(result.output, call.name, call.id)
        context = result_context({**context, "trace": self.trace.facts(now, call.name)}, result)
        return self._engine.evaluate("result", call.name, context, self._who())
