"""Evaluation: one event (a model turn's reply, a call about to run, a result
just back) against the mission's policies, with Cedar, to a verdict. Pure and
deterministic (Cedar is native code over the given request), so it runs in the
workflow and replays.

Policies are parsed once per distinct set. Each event is put to the policies
whose scope can match it, in one request, the watching ones (alert, log_only)
alongside: what they find is reported, never enforced. Cedar is handed only
the context those policies read, and a request already put is answered from
memory. A policy that fails to evaluate fails closed: a forbid counts as fired."""

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
from sealed.directives.reads import outermost, pruned, reads
from sealed.directives.schema import ACTION, MISSION, MODEL, PROFILE, TOOL
from sealed.types import Strict

Event = Literal["call", "result", "turn"]
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


def resource_type(event: str) -> str:
    return MODEL if event == "turn" else TOOL


def _in_scope(info: PolicyInfo, event: str, tool: str) -> bool:
    """Whether the policy's action and resource scope can match the event: one
    that cannot is left out of the event's set (it would only cost time)."""
    wanted = {"action": (ACTION, event), "resource": (resource_type(event), tool)}
    for key, (kind, name) in wanted.items():
        scope = info.cedar.get(key, {})
        op = scope.get("op")
        named = [scope["entity"]] if "entity" in scope else scope.get("entities", [])
        if (
            op in ("==", "in")
            and named
            and all((e.get("type"), e.get("id")) != (kind, name) for e in named)
        ):
            return False
        if op == "is" and scope.get("entity_type") != kind:
            return False
    return True


def _unconditional_permit(info: PolicyInfo) -> bool:
    scopes = (info.cedar.get(k, {}).get("op") for k in ("principal", "action", "resource"))
    return (
        info.effect == "permit"
        and all(op == "All" for op in scopes)
        and not info.cedar.get("conditions")
    )


def _enforced(info: PolicyInfo) -> bool:
    """Enforced: permits, and forbids neither alert nor log_only (those watch)."""
    return info.effect == "permit" or (info.mode == "enforce" and info.action != "alert")


Judged = tuple[list[PolicyInfo], list[tuple[PolicyInfo | None, str]]]
# Distinct requests remembered per set: a mission's events often put the same
# question (the shipped defaults read a handful of booleans), and Cedar's
# answer to a request never changes.
_REMEMBERED = 4096


class _Set:
    """One parsed Cedar set, what its policies read, and them by Cedar's ids."""

    def __init__(self, compiled: Compiled, infos: list[PolicyInfo], remember: bool) -> None:
        self.infos = {f"policy{n}": info for n, info in enumerate(infos)}
        self.policies = cedarpy.PolicySet.from_str(compiled.text_of(infos)) if infos else None
        self.reads = outermost(reads([info.cedar for info in infos]))
        self._answers: OrderedDict[str, Judged] = OrderedDict()
        self._remember = remember

    def judge(self, request: dict[str, Any], context: dict[str, Any], who: Principal) -> Judged:
        """(the policies that decided, the errors met and whose they were)."""
        if self.policies is None:
            return [], []
        text = json.dumps(pruned(context, self.reads), sort_keys=True)
        key = json.dumps(request, sort_keys=True) + text
        known = self._answers.get(key)
        if known is not None:
            return known
        result = cedarpy.is_authorized({**request, "context": text}, self.policies, who.entities)
        reasons = [self.infos[r] for r in result.diagnostics.reasons if r in self.infos]
        errors = []
        for error in result.diagnostics.errors:
            match = _ERRING.search(error)
            errors.append((self.infos.get(match[1]) if match else None, error))
        if self._remember:
            self._answers[key] = (reasons, errors)
            if len(self._answers) > _REMEMBERED:
                self._answers.popitem(last=False)
        return reasons, errors


class _EventSet:
    """The policies whose scope can match one (event, tool), in one set: the
    common case costs one Cedar request. Watching forbids (alert, log_only)
    ride along; only when nothing but they deny, and no unconditional permit
    holds, is the enforced part asked alone whether anything permits."""

    def __init__(self, compiled: Compiled, event: str, tool: str, remember: bool) -> None:
        infos = [i for i in compiled.infos if _in_scope(i, event, tool)]
        self.all = _Set(compiled, infos, remember)
        self._remember = remember
        self._compiled = compiled
        self._enforced_infos = [i for i in infos if _enforced(i)]
        self._enforced: _Set | None = None
        self.permit_all = any(_unconditional_permit(i) for i in infos)

    def enforced(self) -> _Set:
        if self._enforced is None:
            self._enforced = _Set(self._compiled, self._enforced_infos, self._remember)
        return self._enforced


def _errors_fired(errors: list[tuple[PolicyInfo | None, str]], fired: set[str]) -> list[Firing]:
    """Fail closed: a forbid that could not be evaluated counts as fired, and a
    request that could not be evaluated at all is refused."""
    out = []
    for info, error in errors:
        if info is None:
            out.append(
                Firing(policy=UNEVALUATED, level="runtime", action="deny_call", reason=error)
            )
        elif info.effect == "forbid" and info.id not in fired:
            out.append(_firing(info, error))
    return out


class Engine:
    def __init__(self, directives: DirectiveSet, *, remember: bool = True) -> None:
        """`remember`: answer a request Cedar was already asked from memory
        (off only to measure Cedar itself)."""
        self._compiled = compile_sources(directives.sources, directives.relaxed)
        self.infos = self._compiled.infos
        self._sets: dict[tuple[str, str], _EventSet] = {}
        self._remember = remember

    def _set(self, event: str, tool: str) -> _EventSet:
        found = self._sets.get((event, tool))
        if found is None:
            found = _EventSet(self._compiled, event, tool, self._remember)
            self._sets[(event, tool)] = found
        return found

    def evaluate(self, event: Event, tool: str, context: dict[str, Any], who: Principal) -> Verdict:
        request = {
            "principal": who.uid,
            "action": {"type": ACTION, "id": event},
            "resource": {"type": resource_type(event), "id": tool},
        }
        sets = self._set(event, tool)
        reasons, errors = sets.all.judge(request, context, who)
        forbids = [i for i in reasons if i.effect == "forbid"]
        fired = [_firing(i) for i in forbids if _enforced(i)]
        watched = [_firing(i) for i in forbids if not _enforced(i)]
        permitted = any(i.effect == "permit" for i in reasons) or bool(fired)
        if not permitted and sets.all.policies is not None:
            # Denied by watching forbids alone, or by nothing at all: does an
            # enforced permit hold?
            if sets.permit_all:
                permitted = True
            elif watched:
                enforced_reasons, _ = sets.enforced().judge(request, context, who)
                permitted = any(i.effect == "permit" for i in enforced_reasons)
        for firing in _errors_fired(errors, {f.policy for f in [*fired, *watched]}):
            (fired if firing.mode == "enforce" and firing.action != "alert" else watched).append(
                firing
            )
        if not permitted and not fired:
            fired = [
                Firing(policy=NO_PERMIT, level="runtime", action="deny_call", reason=NO_PERMIT)
            ]
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


def engine_for(directives: DirectiveSet, digest: str) -> Engine:
    """Parsed once per distinct set on this worker (missions share them);
    `digest` is the set's."""
    engine = _ENGINES.get(digest)
    if engine is None:
        engine = _ENGINES[digest] = Engine(directives)
        while len(_ENGINES) > _KEEP:
            _ENGINES.popitem(last=False)
    _ENGINES.move_to_end(digest)
    return engine
