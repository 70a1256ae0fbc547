"""The typed boundary of the runtime: everything that crosses a workflow,
activity, model provider, CLI or file boundary is one of these pydantic models."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sealed.approvals.events import ApprovalEvent
from sealed.approvals.policy import ApprovalsSpec, CallPolicy
from sealed.directives.events import Violation
from sealed.directives.policies import DirectiveSet, DirectivesSpec
from sealed.llm.parameters import provider_parameters
from sealed.types import (
    Duration,
    MissionId,
    Privilege,
    ProfileName,
    Strict,
    ToolName,
)


class MissionStatus(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"
    LIMIT_EXCEEDED = "limit_exceeded"

    @property
    def finished(self) -> bool:
        return self not in (MissionStatus.RUNNING, MissionStatus.AWAITING_APPROVAL)


# --- the model's script (scripted provider) ---------------------------------


class ScriptedToolCall(Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class TokenUsage(Strict):
    """What a provider reports a turn consumed."""

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class ScriptedTurn(Strict):
    """One model turn: either tool calls or a final answer, never both."""

    say: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    final: str | None = None
    usage: TokenUsage | None = Field(default=None, description="what this turn reports it used")

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptedTurn:
        if (self.final is None) == (not self.tool_calls):
            raise ValueError("a turn has either 'tool_calls' or 'final', exactly one of them")
        return self


class ModelScript(Strict):
    turns: list[ScriptedTurn] = Field(min_length=1)
    gullible: bool = Field(
        default=False,
        description="obey tool-call instructions planted in tool output, fenced or not "
        "(a stand-in for an injected model, for demos and tests)",
    )


# --- the mission spec ---------------------------------------------------------


class Price(Strict):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ModelSpec(Strict):
    provider: str = "scripted"
    name: str = "scripted-1"
    parameters: dict[str, Any] = Field(default_factory=dict)
    price: Price | None = Field(
        default=None, description="for the cost trace fact, if the model has no list price"
    )
    script: ModelScript | None = None
    api_key_secret: str | None = Field(
        default=None,
        description="the profile secret holding the provider's key, granted to the "
        "pseudo-tool 'model.<provider>': never an environment variable of the worker",
    )

    @model_validator(mode="after")
    def _scripted_needs_script(self) -> ModelSpec:
        if self.provider == "scripted" and self.script is None:
            raise ValueError("the scripted provider needs a 'script'")
        return self

    @model_validator(mode="after")
    def _real_provider_is_complete(self) -> ModelSpec:
        """A real provider's parameters are its own (checked, each one used),
        and it gets a key from the profile or, for a server of one's own that
        needs none, no key at all: never one from the worker's environment."""
        params = provider_parameters(self.provider, self.parameters)
        if params is None:
            return self
        if self.script is not None:
            raise ValueError(f"provider '{self.provider}' takes no 'script'")
        if "name" not in self.model_fields_set:
            raise ValueError(f"provider '{self.provider}' needs the model's 'name'")
        if params.needs_key and self.api_key_secret is None:
            raise ValueError(
                f"provider '{self.provider}' needs 'api_key_secret': the profile secret "
                f"holding its key, granted to the pseudo-tool 'model.{self.provider}'"
            )
        params.check_transport(keyed=self.api_key_secret is not None)
        return self


class Limits(Strict):
    max_turns: int = Field(default=10, ge=1, le=1000)
    max_tool_calls: int = Field(default=25, ge=0, le=10000)
    deadline: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0))


class MissionSpec(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    profile: ProfileName
    goal: str = Field(min_length=1)
    system_prompt: str = "You are a careful agent. Use tools only when needed."
    model: ModelSpec
    tools: list[ToolName] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    approvals: ApprovalsSpec = Field(default_factory=ApprovalsSpec)
    directives: DirectivesSpec = Field(
        default_factory=DirectivesSpec,
        description="Cedar policies this mission adds to its profile's (forbid only)",
    )

    @field_validator("directives", mode="before")
    @classmethod
    def _retired_list(cls, value: Any) -> Any:
        # Histories recorded before directives ran carry an empty list here.
        return {} if value == [] else value

    @field_validator("directives")
    @classmethod
    def _only_restrictions(cls, directives: DirectivesSpec) -> DirectivesSpec:
        if directives.relax:
            raise ValueError("relax: a mission may only add restrictions (a profile may relax)")
        return directives

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, tools: list[str]) -> list[str]:
        if len(set(tools)) != len(tools):
            raise ValueError("tools are listed more than once")
        return tools


class OriginalPrompt(Strict):
    """What a mission was told to do (sealed.pinning): persisted once,
    content-addressed, re-injected verbatim on every turn."""

    system_prompt: str
    goal: str
    tools: list[str] = Field(default_factory=list)
    # Retired, always empty: kept so that every pinned prompt's digest stays
    # what it was. A mission's directives are policies over it, not prompt.
    directives: list[dict[str, Any]] = Field(default_factory=list, max_length=0)

    @classmethod
    def of(cls, spec: MissionSpec) -> OriginalPrompt:
        return cls(system_prompt=spec.system_prompt, goal=spec.goal, tools=spec.tools)

    def canonical(self) -> bytes:
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


# --- conversation, turns and tool calls ----------------------------------------


class Fingerprint(Strict):
    """One encoded form of one value issued to the mission (sealed.redaction.known):
    safe in workflow history, since without the mission's key it confirms
    nothing and reveals nothing."""

    name: str
    length: int
    anchor: int
    digest: str
    # base64 cores share a character with their neighbours: the redaction
    # widens over it so no bits of the value survive.
    widen: int = 0
    # A second keyed hash of the same first 8 bytes: a text's common words that
    # collide with `anchor` are let go without an HMAC (None from older workers).
    check: int | None = None


class ToolCall(Strict):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(Strict):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    flags: list[str] = Field(
        default_factory=list, description="e.g. injection signals found in this tool output"
    )


class ToolInfo(Strict):
    """What the model is told about a tool: never its secrets."""

    name: str
    description: str
    privilege: Privilege
    parameters: dict[str, Any]


class ModelTurnInput(Strict):
    """From the workflow: on the first turn the original instructions (persisted
    by the activity), after that only their digest."""

    mission_id: str
    profile: ProfileName | Literal[""] = Field(
        default="", description="empty from workers older than the model key's grant"
    )
    turn: int
    model: ModelSpec
    original: OriginalPrompt | None = Field(default=None, description="first turn only")
    prompt_digest: str | None = None
    conversation: list[Message]
    tools: list[str] = Field(description="names only: the worker's registry describes them")
    known: list[Fingerprint] = Field(default_factory=list)
    approvals: ApprovalsSpec = Field(
        default_factory=ApprovalsSpec, description="the mission's own, tightening its profile's"
    )
    directives: DirectivesSpec = Field(
        default_factory=DirectivesSpec, description="the mission's own, added to its profile's"
    )
    directives_digest: str | None = Field(
        default=None, description="the set the mission holds: sent again only when it changed"
    )

    @model_validator(mode="before")
    @classmethod
    def _scheduled_by_an_older_worker(cls, data: Any) -> Any:
        """Older workers also sent `system_prompt` and `goal` (the provider's
        request, now ModelRequest); a turn they scheduled still decodes here, and
        its instructions come from the pinned original as for any other turn."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in _RETIRED_TURN_FIELDS}
        return data


_RETIRED_TURN_FIELDS = ("system_prompt", "goal")


class ModelRequest(Strict):
    """What a model provider is asked (sealed.llm): the verified original's
    system prompt and goal, the conversation so far and the tools on offer,
    all redacted by the activity before the provider sees them."""

    mission_id: str
    turn: int
    model: ModelSpec
    system_prompt: str
    goal: str
    conversation: list[Message]
    tools: list[ToolInfo]


class ModelReply(Strict):
    """What a provider answers: text, or tool calls, or both."""

    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage | None = None

    @property
    def is_final(self) -> bool:
        return not self.tool_calls


class ModelTurnOutput(Strict):
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    prompt_digest: str | None = Field(
        default=None, description="SHA-256 of the original instructions this turn was given"
    )
    issued: list[Fingerprint] = Field(
        default_factory=list, description="fingerprints of the provider key used this turn"
    )
    policy: CallPolicy | None = Field(
        default=None, description="how this turn's calls are held for approval (None: older)"
    )
    directives: DirectiveSet | None = Field(
        default=None, description="the mission's directives, when they differ from what it holds"
    )
    cost_microusd: int = Field(
        default=0, ge=0, description="this turn's usage at the worker's prices (sealed.llm.prices)"
    )
    redactions: int = Field(default=0, ge=0, description="values redacted from the reply")
    usage: TokenUsage | None = Field(
        default=None, description="the tokens the provider reports (None: it reported none)"
    )

    @property
    def is_final(self) -> bool:
        return not self.tool_calls


class ToolCallInput(Strict):
    mission_id: str
    profile: ProfileName
    call: ToolCall
    mission_deadline: datetime | None = Field(
        default=None, description="no credential of the call outlives the mission"
    )
    known: list[Fingerprint] = Field(default_factory=list)
    approval_id: str | None = Field(
        default=None, description="the approval this call runs under: its credentials carry it"
    )
    approvals: ApprovalsSpec = Field(
        default_factory=ApprovalsSpec, description="the mission's own, tightening its profile's"
    )
    decisions: list[ApprovalEvent] = Field(
        default_factory=list,
        description="the decision that released this call: written to the audit log "
        "before anything else the call does",
    )

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of one call, so a retried call does not act twice."""
        return f"{self.mission_id}/{self.call.id}"


class ToolCallResult(Strict):
    call_id: str
    name: str
    output: str
    is_error: bool = False
    flags: list[str] = Field(default_factory=list)
    issued: list[Fingerprint] = Field(
        default_factory=list, description="fingerprints of the values this call was issued"
    )
    redactions: int = Field(default=0, ge=0, description="values redacted from the output")


# --- the mission as the outside world sees it ------------------------------------


class MissionInput(Strict):
    mission_id: MissionId
    spec: MissionSpec
    submitter: str | None = Field(
        default=None, description="who submitted it: that person cannot approve its calls"
    )


class TurnUsage(TokenUsage):
    """What one model turn used, as its provider reported it, and its cost."""

    turn: int = Field(ge=1)
    cost_microusd: int = Field(default=0, ge=0)


class MissionProgress(Strict):
    """Answer of the `status` query."""

    mission_id: str
    status: MissionStatus
    phase: str
    turn: int
    tool_calls: int
    pending: list[str]
    reason: str | None = None
    prompt_digest: str | None = None
    usage: list[TurnUsage] = Field(
        default_factory=list, description="per model turn whose provider reported its usage"
    )


class MissionResult(Strict):
    mission_id: str
    status: MissionStatus
    answer: str | None = None
    reason: str | None = None
    turns: int
    tool_calls: int
    violation: Violation | None = Field(
        default=None, description="the directive that stopped the mission"
    )


class AbortRequest(Strict):
    reason: str = Field(min_length=1, max_length=500)
    wait_for_cancellation: bool = Field(
        default=True,
        description="return only once the in-flight call has stopped; a profile "
        "revocation, whose credentials are already dead at the backend, need not wait",
    )
