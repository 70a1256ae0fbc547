"""Directive policies (Sealed V), in Cedar: what each level declares, and the
one policy set they merge into.

Levels, merged in this order into one set: the shipped defaults
(`defaults.cedar`), the system-wide file of the worker, the profile's, the
mission's. Cedar decides over the whole set, so a `forbid` at any level wins
over every `permit`: a later level can only add restrictions, and a mission
may hold nothing but `forbid`s. A profile alone may switch off (`relax`) a
shipped default, by its id, explicitly.

Each policy carries annotations: `@id("...")` (named in audit and errors;
`sealed.` is reserved for the shipped ones), `@action(...)` for a forbid:
`abort` (the default), `deny_call` (the call is refused and the model told
why), `require_approval` (calls only: routed through the approvals flow) or
`alert` (audit only); `@mode("log_only")` to run it without enforcing it
(a level's `mode:` sets it for all its policies); `@reason("...")` for what
the model and the audit log are told."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any, Literal, Protocol

import cedarpy
from pydantic import Field

from sealed.directives.cedar_text import statements
from sealed.types import Privilege, Strict

DirectiveAction = Literal["abort", "deny_call", "require_approval", "alert"]
PolicyMode = Literal["enforce", "log_only"]
Level = Literal["default", "system", "profile", "mission"]

# The stronger action wins when several policies fire at once.
ACTION_RANK: dict[DirectiveAction, int] = {
    "alert": 0,
    "require_approval": 1,
    "deny_call": 2,
    "abort": 3,
}
_ANNOTATIONS = ("id", "action", "mode", "reason")
RESERVED_PREFIX = "sealed."
# The shipped default the tools' own redirect check follows (relaxed: neither).
EGRESS_ALLOWLIST = "sealed.egress-allowlist"
# The shipped defaults that read a profile's egress allowlist.
EGRESS_DEFAULTS = (EGRESS_ALLOWLIST, "sealed.untrusted-egress")


class DirectivesSpec(Strict):
    """What a profile or a mission declares under `directives:`. `file:`
    (a Cedar file beside the YAML) is read into `policies` when it is loaded."""

    policies: str = Field(default="", description="Cedar policies (or `file:` beside the YAML)")
    mode: PolicyMode = "enforce"
    relax: list[str] = Field(
        default_factory=list,
        description="profile only: shipped default policies to switch off, by @id",
    )
    origin: str = Field(default="", description="where the policies were read from")

    def source(self, level: Level) -> PolicySource | None:
        """These policies as `level` of a mission's set (None: there are none)."""
        if not self.policies.strip():
            return None
        origin = self.origin or f"{level} directives"
        return PolicySource(level=level, text=self.policies, mode=self.mode, origin=origin)


class _Described(Protocol):
    @property
    def privilege(self) -> Privilege: ...
    @property
    def side_effects(self) -> bool: ...
    @property
    def destination(self) -> str | None: ...


class ToolFacts(Strict):
    """What the directives know of a tool, from the worker's registry."""

    privilege: Privilege = "critical"
    side_effects: bool = True
    destination: str | None = Field(
        default=None, description="the argument naming where the tool sends (URL or host)"
    )

    @classmethod
    def of(cls, tool: _Described) -> ToolFacts:
        """A registered tool's (sealed.tools.ToolDef)."""
        return cls(
            privilege=tool.privilege, side_effects=tool.side_effects, destination=tool.destination
        )


class PolicySource(Strict):
    level: Level
    text: str
    mode: PolicyMode = "enforce"
    origin: str


class DirectiveSet(Strict):
    """Everything a mission's directives are evaluated with, as the model-turn
    activity found it (and the mission's own): it travels in history, so
    evaluation replays exactly."""

    sources: list[PolicySource]
    relaxed: list[str] = Field(default_factory=list)
    tools: dict[str, ToolFacts] = Field(default_factory=dict)
    hosts: list[str] = Field(default_factory=list, description="the profile's egress allowlist")
    secret_names: list[str] = Field(default_factory=list)

    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()


class PolicyInfo(Strict):
    id: str
    level: Level
    effect: Literal["permit", "forbid"]
    action: DirectiveAction | None = None  # None for a permit
    mode: PolicyMode = "enforce"
    origin: str
    line: int
    reason: str | None = None
    cedar: dict[str, Any] = Field(description="the policy as Cedar's JSON form")

    @property
    def where(self) -> str:
        return f"{self.origin}:{self.line}"


class DirectiveError(ValueError):
    """Policies that cannot be used: each problem names file, line and reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid directives\n" + "\n".join(f"  - {p}" for p in problems))


@functools.cache
def default_source() -> PolicySource:
    """The shipped defaults, read from the package once per process."""
    text = resources.files("sealed.directives").joinpath("defaults.cedar").read_text()
    return PolicySource(level="default", text=text, origin="sealed/directives/defaults.cedar")


def with_defaults(*levels: PolicySource | None) -> list[PolicySource]:
    """A mission's levels in their order, the shipped defaults first (None: a
    level that declares nothing)."""
    return [default_source(), *(level for level in levels if level is not None)]


class Compiled:
    """The merged set: `text` holds the policies in order, `infos[n]` is the
    one Cedar calls `policy<n>` when it is parsed alone."""

    def __init__(self, infos: list[PolicyInfo], texts: list[str]) -> None:
        self.infos = infos
        self.texts = texts

    def text_of(self, infos: list[PolicyInfo]) -> str:
        index = {id(info): n for n, info in enumerate(self.infos)}
        return "\n".join(self.texts[index[id(info)]] for info in infos)


def compile_sources(sources: Sequence[PolicySource], relaxed: Sequence[str] = ()) -> Compiled:
    """Parses every level, checks what each may say, drops the relaxed
    defaults; DirectiveError lists every problem at once."""
    problems: list[str] = []
    infos: list[PolicyInfo] = []
    texts: list[str] = []
    seen: dict[str, str] = {}
    for source in sources:
        found = statements(source.text)
        problem = _miscounted(source, len(found))
        if problem:
            problems.append(problem)
            continue
        for n, statement in enumerate(found):
            where = f"{source.origin}:{statement.line}"
            try:
                info = _policy(source, statement.text, statement.line, n)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if info.id in seen:
                problems.append(f"{where}: @id '{info.id}' is already used at {seen[info.id]}")
                continue
            seen[info.id] = where
            infos.append(info)
            texts.append(statement.text)
    defaults = {i.id for i in infos if i.level == "default"}
    unknown = [name for name in relaxed if name not in defaults]
    if unknown:
        problems.append(f"relax: {unknown} are not shipped default policies ({sorted(defaults)})")
    if problems:
        raise DirectiveError(problems)
    kept = [(i, t) for i, t in zip(infos, texts, strict=True) if i.id not in relaxed]
    return Compiled([i for i, _ in kept], [t for _, t in kept])


def _miscounted(source: PolicySource, found: int) -> str | None:
    """Where the file is cut into policies here and Cedar reads it as a whole
    disagree on how many it holds, a policy could go unchecked or unseen:
    refused. (A file Cedar cannot parse is reported policy by policy.)"""
    try:
        cedar = cedarpy.PolicySet.from_str(source.text)
    except ValueError:
        return None
    held = len(cedar) + len(cedar.templates())
    if held == found:
        return None
    return f"{source.origin}: Cedar reads {held} policies where {found} were found: refused"


def _policy(source: PolicySource, text: str, line: int, n: int) -> PolicyInfo:
    try:
        parsed = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise ValueError(f"not a Cedar policy: {exc}") from None
    if parsed.get("templates"):
        raise ValueError("templates (?principal, ?resource) are not supported")
    (policy,) = parsed["staticPolicies"].values()
    annotations: dict[str, str] = policy.get("annotations") or {}
    unknown = sorted(set(annotations) - set(_ANNOTATIONS))
    if unknown:
        raise ValueError(f"unknown annotation(s) {unknown}: use {list(_ANNOTATIONS)}")
    effect = policy["effect"]
    policy_id = annotations.get("id") or f"{source.level}.{source.origin}.{n}"
    if source.level != "default" and policy_id.startswith(RESERVED_PREFIX):
        raise ValueError(f"@id '{policy_id}': the '{RESERVED_PREFIX}' prefix is reserved")
    mode = annotations.get("mode", source.mode)
    if mode not in ("enforce", "log_only"):
        raise ValueError(f"@mode('{mode}'): say enforce or log_only")
    action = annotations.get("action")
    if effect == "permit":
        if source.level == "mission":
            raise ValueError("a mission may only add restrictions: forbid, not permit")
        if action is not None:
            raise ValueError("@action applies to forbid policies")
        if mode == "log_only":
            raise ValueError("log_only applies to forbid policies")
        return PolicyInfo(
            id=policy_id,
            level=source.level,
            effect="permit",
            origin=source.origin,
            line=line,
            reason=annotations.get("reason"),
            cedar=policy,
        )
    action = action or "abort"
    if action not in ACTION_RANK:
        raise ValueError(f"@action('{action}'): say one of {list(ACTION_RANK)}")
    return PolicyInfo(
        id=policy_id,
        level=source.level,
        effect="forbid",
        action=action,
        mode=mode,
        origin=source.origin,
        line=line,
        reason=annotations.get("reason"),
        cedar=policy,
    )
