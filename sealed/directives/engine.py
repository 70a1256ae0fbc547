"""Evaluation: one event (a call about to run, a result just back) against the
mission's policies, with Cedar, to a verdict. Pure and deterministic (Cedar is
native code over the given request), so it runs in the workflow and replays.

Policies are parsed once per distinct set and kept (a parse costs about ten
evaluations). Enforced policies and those that only watch (alert, log_only)
are separate sets, so that watching never changes what is enforced. A policy
that fails to evaluate fails closed: a forbid counts as fired."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any, Literal

import cedarpy
from pydantic import Field

from sealed.directives.policies import (
    ACTION_RANK,
    Compiled,
    DirectiveAction,
    DirectiveSet,
    Level,
    PolicyInfo,
    PolicyMode,
    compile_sources,
)
from sealed.directives.schema import ACTION, MISSION, PROFILE, TOOL
from sealed.types import Strict

Event = Literal["call", "result"]
_ERRING = re.compile(r"policy `(policy\d+)`")
# Stands for "no permit matched" (a profile that relaxed the shipped
# permit-all) and for a request Cedar could not evaluate at all.
NO_PERMIT = "(no policy permits it)"
UNEVALUATED = "(the request could not be evaluated)"


class Firing(Strict):
    policy: str
    level: Level | Literal["runtime"]
    action: DirectiveAction
    mode: PolicyMode = "enforce"
    reason: str
    where: str = ""


class Verdict(Strict):
    event: Event
    tool: str
    fired: list[Firing] = Field(default_factory=list, description="enforced, strongest first")
    watched: list[Firing] = Field(
        default_factory=list, description="alert and log_only policies that fired"
    )

    @property
    def action(self) -> DirectiveAction | None:
        return self.fired[0].action if self.fired else None

    @property
    def decisive(self) -> Firing | None:
        return self.fired[0] if self.fired else None


def _firing(info: PolicyInfo, error: str | None = None) -> Firing:
    assert info.action is not None  # forbids only
    reason = info.reason or f"policy {info.id} forbids it"
    return Firing(
        policy=info.id,
        level=info.level,
        action=info.action,
        mode=info.mode,
        reason=f"{reason} (it could not be evaluated: {error})" if error else reason,
        where=info.where,
    )


class _Part:
    """One parsed Cedar set and the policies it holds, by Cedar's ids."""

    def __init__(self, compiled: Compiled, infos: list[PolicyInfo]) -> None:
        self.infos = {f"policy{n}": info for n, info in enumerate(infos)}
        self.policies = cedarpy.PolicySet.from_str(compiled.text_of(infos)) if infos else None

    def fired(
        self, request: dict[str, Any], entities: cedarpy.Entities
    ) -> tuple[bool, list[Firing]]:
        """(some permit matched, the forbids that fired or could not be evaluated)."""
        if self.policies is None:
            return False, []
        result = cedarpy.is_authorized(request, self.policies, entities)
        reasons = [self.infos[r] for r in result.diagnostics.reasons if r in self.infos]
        fired = [_firing(i) for i in reasons if i.effect == "forbid"]
        permitted = any(i.effect == "permit" for i in reasons)
        for error in result.diagnostics.errors:
            match = _ERRING.search(error)
            info = self.infos.get(match[1]) if match else None
            if info is None:
                fired.append(
                    Firing(policy=UNEVALUATED, level="runtime", action="deny_call", reason=error)
                )
            elif info.effect == "forbid" and info.id not in {f.policy for f in fired}:
                fired.append(_firing(info, error))
        return permitted, fired


class Engine:
    def __init__(self, directives: DirectiveSet) -> None:
        compiled = compile_sources(directives.sources, directives.relaxed)
        self.infos = compiled.infos
        enforced = [i for i in compiled.infos if i.mode == "enforce" and i.action != "alert"]
        watching = [i for i in compiled.infos if i not in enforced and i.effect == "forbid"]
        self._enforced = _Part(compiled, enforced)
        self._watching = _Part(compiled, watching)

    def evaluate(self, event: Event, tool: str, context: dict[str, Any], who: Principal) -> Verdict:
        request = {
            "principal": who.uid,
            "action": {"type": ACTION, "id": event},
            "resource": {"type": TOOL, "id": tool},
            "context": context,
        }
        permitted, fired = self._enforced.fired(request, who.entities)
        if not permitted and not fired:
            fired = [
                Firing(policy=NO_PERMIT, level="runtime", action="deny_call", reason=NO_PERMIT)
            ]
        _, watched = self._watching.fired(request, who.entities)
        fired.sort(key=lambda f: (-ACTION_RANK[f.action], f.policy))
        return Verdict(event=event, tool=tool, fired=fired, watched=watched)


class Principal:
    """The mission, a member of its profile (`principal in Sealed::Profile::"x"`),
    parsed once for all its events."""

    def __init__(self, mission_id: str, profile: str) -> None:
        self.uid = {"type": MISSION, "id": mission_id}
        profile_uid = {"type": PROFILE, "id": profile}
        self.entities = cedarpy.Entities.from_json_str(
            json.dumps(
                [
                    {"uid": self.uid, "attrs": {}, "parents": [profile_uid]},
                    {"uid": profile_uid, "attrs": {}, "parents": []},
                ]
            )
        )


_ENGINES: OrderedDict[str, Engine] = OrderedDict()
_KEEP = 64


def engine_for(directives: DirectiveSet) -> Engine:
    """Parsed once per distinct set on this worker (missions share them)."""
    digest = directives.digest()
    engine = _ENGINES.get(digest)
    if engine is None:
        engine = _ENGINES[digest] = Engine(directives)
        while len(_ENGINES) > _KEEP:
            _ENGINES.popitem(last=False)
    _ENGINES.move_to_end(digest)
    return engine
