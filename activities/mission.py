"""The mission's activities: one model turn, one tool call. The only place
where the model, the tools and the credential backends are touched; each is a
thin adapter over the spine: the profile check (I, III-A), the credential
broker (II, III-D), the per-call screen (III-B) and the pinned prompt (III-C)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

import structlog
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sealed.activities.heartbeat import heartbeating
from sealed.activities.streaming import ReplyStream
from sealed.approvals.policy import CallPolicy
from sealed.approvals.registry import ApproverKeys, ApproverUnknown
from sealed.audit import AuditEvent, AuditLog
from sealed.contract import DECISION_NOT_RECORDED, MODEL_TURN, RUN_TOOL
from sealed.directives.policies import (
    EGRESS_ALLOWLIST,
    DirectiveSet,
    PolicySource,
    ToolFacts,
    with_defaults,
)
from sealed.directives.schema import checked
from sealed.identity.backend import SecretValue
from sealed.identity.broker import CredentialBroker, CredentialRefused
from sealed.identity.profiles import Profile, ProfileSource, ensure_served
from sealed.llm import ModelConfigError, get_provider
from sealed.llm.base import ModelError, ModelTransientError, ask
from sealed.llm.parameters import provider_parameters
from sealed.llm.prices import PriceTable
from sealed.models import (
    ModelReply,
    ModelRequest,
    ModelSpec,
    ModelTurnInput,
    ModelTurnOutput,
    TokenUsage,
    ToolCallInput,
    ToolCallResult,
)
from sealed.pinning import PromptStore, original_for_turn
from sealed.redaction.screen import Screen, Screens
from sealed.tools.netguard import allows
from sealed.tools.registry import ToolContext, ToolDef, ToolError

log = structlog.get_logger("sealed.activities")


# Heartbeat detail: this call's decision is on record (sealed.workflows.approvals).
DECISIONS_RECORDED = "decisions-recorded"


def _ids_kept_apart(reply: ModelReply, chosen: ModelReply, turn: int) -> ModelReply:
    """A call id the screen redacted may now equal another's, and an id names
    the call's approval and idempotency key: it becomes one of its own, the
    same on every attempt of the turn."""
    calls = [
        call if call.id == before.id else call.model_copy(update={"id": f"redacted-{turn}-{i}"})
        for i, (call, before) in enumerate(zip(reply.tool_calls, chosen.tool_calls, strict=True))
    ]
    return reply.model_copy(update={"tool_calls": calls})


def _tool_error(request: ToolCallInput, message: str) -> ToolCallResult:
    return ToolCallResult(
        call_id=request.call.id,
        name=request.call.name,
        output=f"tool error: {message}",
        is_error=True,
    )


def _redacted(exc: Exception, screen: Screen) -> ApplicationError:
    """The error as it leaves the activity (for history, the mission's reason and
    the SDK's log): message and details redacted, no traceback of the original;
    its type name kept (the retry policy decides on it), and an ApplicationError's
    retry choice and category too, as a model provider's error's (ModelError)."""
    if isinstance(exc, ApplicationError):
        message, details = screen.error(exc.message, exc.details)
        return ApplicationError(
            message,
            *details,
            type=exc.type,
            non_retryable=exc.non_retryable,
            next_retry_delay=exc.next_retry_delay,
            category=exc.category,
        )
    message, _ = screen.error(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, ModelError):
        wait = exc.retry_after if isinstance(exc, ModelTransientError) else None
        return ApplicationError(
            message, type=type(exc).__name__, non_retryable=not exc.retryable, next_retry_delay=wait
        )
    return ApplicationError(message, type=type(exc).__name__)


def _attempt_ttl() -> timedelta:
    return activity.info().start_to_close_timeout or timedelta(minutes=5)


def _egress(profile: Profile) -> frozenset[str] | None:
    """The hosts a tool may be sent on to (redirects): the profile's egress
    allowlist, unless the profile relaxed the directive that enforces it."""
    if EGRESS_ALLOWLIST in profile.directives.relax:
        return None
    return frozenset(profile.egress_hosts())


def _check_endpoint(profile: Profile, model: ModelSpec) -> None:
    """A real provider sends the prompt and the key to its own endpoint, or
    to one the profile grants `model.<provider>` (its `hosts`): a mission
    cannot send its profile's key wherever its `base_url` says."""
    params = provider_parameters(model.provider, model.parameters)
    if params is None:
        return
    endpoint = params.endpoint()
    grant = profile.tools.get(f"model.{model.provider}")
    hosts = frozenset(grant.hosts) if grant is not None else frozenset()
    if not endpoint.default and not allows(hosts, endpoint.host, endpoint.port):
        raise ModelConfigError(
            f"profile '{profile.name}' does not allow the model endpoint "
            f"{endpoint.host}:{endpoint.port}: list it in the 'hosts' of 'model.{model.provider}'"
        )


def _credential_ttl(request: ToolCallInput) -> timedelta:
    """As long as this attempt may run, and never past the mission's deadline."""
    ttl = _attempt_ttl()
    if request.mission_deadline is not None:
        ttl = min(ttl, request.mission_deadline - datetime.now(UTC))
    return max(ttl, timedelta(seconds=1))


def _usage_event(request: ModelTurnInput, usage: TokenUsage, cost: int) -> AuditEvent:
    """What a turn's attempt used: each attempt that got a reply is billed."""
    return AuditEvent(
        kind="model.usage",
        mission_id=request.mission_id,
        profile=request.profile or None,
        tool=f"model.{request.model.provider}",
        details={
            "model": request.model.name,
            "turn": request.turn,
            "attempt": activity.info().attempt,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost_microusd": cost,
        },
    )


class MissionActivities:
    def __init__(
        self,
        *,
        profiles: ProfileSource,
        credentials: CredentialBroker,
        screens: Screens,
        prompts: PromptStore,
        audit: AuditLog,
        tools: Mapping[str, ToolDef],
        serves: frozenset[str] | None = None,
        approver_keys: ApproverKeys | None = None,
        system_directives: PolicySource | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        """`serves`: a per-profile worker's profiles; None for the shared worker.
        `system_directives`: the system-wide policy file (checked when the
        worker starts). `prices`: what a model's tokens cost (list prices when None)."""
        self._profiles = profiles
        self._credentials = credentials
        self._screens = screens
        self._prompts = prompts
        self._audit = audit
        self._tools = tools
        self._serves = serves
        self._approver_keys = approver_keys
        self._system_directives = system_directives
        self._prices = prices or PriceTable()
        # Digests of the directive sets that passed their checks here.
        self._checked: set[str] = set()

    async def _profile(self, name: str, mission_id: str) -> Profile:
        """The profile a turn or call runs under, if it is registered, not
        revoked, and this worker's to serve (ProfileNotAllowed otherwise)."""
        profile = await self._profiles.for_call(name, mission_id)
        ensure_served(profile, self._serves)
        return profile

    async def _call_policy(self, profile: Profile, request: ModelTurnInput) -> CallPolicy:
        """How the calls this turn asks for are held for approval: the profile's
        floor tightened by the mission, with the approvers' keys as registered
        now (a name with none fails the mission: nobody could approve)."""
        approvals = profile.approvals.tightened(request.approvals)
        keys: dict[str, str] = {}
        if approvals.required and self._approver_keys is None:
            raise ApproverUnknown("this worker has no registry of approvers' keys")
        names = sorted({*approvals.approvers, *approvals.escalate_to})
        # Named approvers decide what a directive holds too, rules or none.
        if names and self._approver_keys is not None:
            keys = await self._approver_keys.public_keys(names)
        privileges = {n: self._tools[n].privilege for n in request.tools if n in self._tools}
        return CallPolicy(approvals=approvals, approver_keys=keys, privileges=privileges)

    def _directives(self, profile: Profile, request: ModelTurnInput) -> tuple[DirectiveSet, str]:
        """The mission's directives: the shipped defaults, the system file, the
        profile's and the mission's own, with what they are evaluated against.
        A set that cannot be used fails the mission (DirectiveError) before
        its model is asked anything."""
        directives = DirectiveSet(
            sources=with_defaults(
                self._system_directives,
                profile.directives.source("profile"),
                request.directives.source("mission"),
            ),
            relaxed=profile.directives.relax,
            tools={
                name: ToolFacts.of(tool)
                for name in request.tools
                if (tool := self._tools.get(name)) is not None
            },
            hosts=profile.egress_hosts(),
            secret_names=sorted(profile.secrets),
        )
        digest = directives.digest()
        if digest not in self._checked:
            checked(directives.sources, self._tools, directives.relaxed)
            self._checked.add(digest)
        return directives, digest

    def _canonical(self, reply: ModelReply) -> ModelReply:
        """Each call's arguments as its tool will run with them: what the
        workflow's directives and approvals judge is what runs."""
        calls = [
            call.model_copy(update={"arguments": tool.canonical(call.arguments)})
            if (tool := self._tools.get(call.name)) is not None
            else call
            for call in reply.tool_calls
        ]
        return reply.model_copy(update={"tool_calls": calls})

    @staticmethod
    def _needs_approval(profile: Profile, request: ToolCallInput, tool: ToolDef) -> bool:
        approvals = profile.approvals.tightened(request.approvals)
        return approvals.needs_approval(tool.name, tool.privilege, request.call.arguments)

    @activity.defn(name=MODEL_TURN)
    async def model_turn(self, request: ModelTurnInput) -> ModelTurnOutput:
        provider = get_provider(request.model.provider)
        # The mission checks its own submission here, every turn: a mission
        # started past the CLI (straight at Temporal) under an unknown or revoked
        # profile, or one this worker does not serve, never reaches its model.
        profile = await self._profile(request.profile, request.mission_id)
        _check_endpoint(profile, request.model)
        policy = await self._call_policy(profile, request)
        directives, directives_digest = self._directives(profile, request)
        digest, original = await original_for_turn(
            self._prompts,
            self._audit,
            request.mission_id,
            original=request.original,
            digest=request.prompt_digest,
        )
        async with (
            self._screens.open(
                request.mission_id,
                request.known,
                where="model_turn",
                allow_pii=profile.redaction.allow_pii,
            ) as screen,
            self._model_credentials(request, profile) as credentials,
        ):
            screen.issue(credentials)
            # The model sees nothing the mission was issued, nor anything secret-shaped,
            # nor PII its registered profile does not allow (the mission has no say)...
            prompt = screen.prompt_out(
                ModelRequest(
                    mission_id=request.mission_id,
                    turn=request.turn,
                    model=request.model,
                    system_prompt=original.system_prompt,
                    goal=original.goal,
                    conversation=request.conversation,
                    tools=[self._tools[n].info() for n in request.tools if n in self._tools],
                )
            )
            before = screen.redactions
            # ... and its reply (which may echo what a tool leaked) is redacted
            # too: a streamed reply chunk by chunk, as it arrives.
            stream = ReplyStream(screen.reply_stream())
            failure: ApplicationError | None = None
            try:
                async with heartbeating(progress=stream.progress):
                    raw: ModelReply = await ask(provider, prompt, credentials, stream)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A provider's error may quote its key or the prompt.
                failure = _redacted(exc, screen)
            if failure is not None:
                raise failure  # outside the handler: no __context__ holds the original
            if stream.chunks:
                # The text is the stream's, as redacted when it arrived; redacting
                # it whole again below finds nothing more, unless the stream missed it.
                raw = raw.model_copy(update={"content": stream.close()})
            # Canonicalised first, redacted last: nothing a tool's coercion
            # could reassemble escapes the redactor.
            canonical = self._canonical(raw)
            reply = _ids_kept_apart(screen.reply_in(canonical), canonical, request.turn)
            redactions = screen.redactions - before
        cost = self._prices.cost_microusd(request.model, raw.usage)
        if raw.usage is not None:
            await asyncio.to_thread(self._audit.record, _usage_event(request, raw.usage, cost))
        log.info(
            "model turn",
            mission_id=request.mission_id,
            turn=request.turn,
            attempt=activity.info().attempt,
            tool_calls=[c.name for c in reply.tool_calls],
            final=reply.is_final,
        )
        return ModelTurnOutput(
            content=reply.content,
            tool_calls=reply.tool_calls,
            issued=screen.issued,
            prompt_digest=digest,
            policy=policy,
            directives=None if directives_digest == request.directives_digest else directives,
            cost_microusd=cost,
            redactions=redactions,
            usage=raw.usage,
        )

    @contextlib.asynccontextmanager
    async def _model_credentials(
        self, request: ModelTurnInput, profile: Profile
    ) -> AsyncIterator[Mapping[str, SecretValue]]:
        """The provider key, through the same path as a tool's secrets: granted
        by the profile to the pseudo-tool `model.<provider>`, issued for this
        turn, revoked after it."""
        secret = request.model.api_key_secret
        if secret is None:
            yield {}
            return
        try:
            async with self._credentials.credentials(
                profile=profile,
                tool=f"model.{request.model.provider}",
                secrets=(secret,),
                mission_id=request.mission_id,
                call_id=f"turn-{request.turn}",
                ttl=_attempt_ttl(),
            ) as credentials:
                yield credentials
        except CredentialRefused as exc:
            raise ModelConfigError(str(exc)) from exc

    async def _record_decisions(self, request: ToolCallInput) -> tuple[str, ...]:
        """The decision that released this call, written before anything else
        the call does (the call is never ahead of its approval's record), once
        per call: an attempt says so in its heartbeat details, which the next
        attempt reads. What the heartbeats must keep saying is returned."""
        if not request.decisions:
            return ()
        if DECISIONS_RECORDED not in activity.info().heartbeat_details:
            events = [event.audit() for event in request.decisions]
            try:
                await asyncio.to_thread(self._audit.record_many, events)
            except Exception as exc:  # retried; the workflow writes it if none can
                raise ApplicationError(
                    f"the call's approval could not be written to the audit log: {exc}",
                    type=DECISION_NOT_RECORDED,
                ) from None
            activity.heartbeat(DECISIONS_RECORDED)
        return (DECISIONS_RECORDED,)

    @activity.defn(name=RUN_TOOL)
    async def run_tool(self, request: ToolCallInput) -> ToolCallResult:
        call = request.call
        recorded = await self._record_decisions(request)
        # Fails closed: a revoked or unknown profile ends the mission, a backend
        # that cannot say raises and the attempt is retried; the tool never runs.
        profile = await self._profile(request.profile, request.mission_id)
        if call.name not in profile.tools:
            return _tool_error(request, f"profile '{profile.name}' does not allow '{call.name}'")
        tool = self._tools.get(call.name)
        if tool is None:
            return _tool_error(request, f"unknown tool '{call.name}'")
        try:
            args = tool.args_model.model_validate(call.arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return _tool_error(request, f"invalid arguments for '{call.name}': {problems}")
        if request.approval_id is None and self._needs_approval(profile, request, tool):
            # The workflow holds such calls first; one that arrives without an
            # approval (its policy tightened since the turn) never runs.
            return _tool_error(request, f"'{call.name}' needs a human approval: ask again")
        bound = log.bind(
            mission_id=request.mission_id,
            tool=call.name,
            call_id=call.id,
            attempt=activity.info().attempt,
        )
        async with self._screens.open(
            request.mission_id,
            request.known,
            where="tool_output",
            tool=call.name,
            allow_pii=profile.redaction.allow_pii,
        ) as screen:
            try:
                async with self._credentials.credentials(
                    profile=profile,
                    tool=tool.name,
                    secrets=tool.secrets,
                    mission_id=request.mission_id,
                    call_id=call.id,
                    ttl=_credential_ttl(request),
                    approval_id=request.approval_id,
                ) as secrets:
                    screen.issue(secrets)
                    context = ToolContext(
                        mission_id=request.mission_id,
                        call_id=call.id,
                        idempotency_key=request.idempotency_key,
                        secrets=secrets,
                        allowed_hosts=frozenset(profile.tools[call.name].hosts),
                        egress_hosts=_egress(profile),
                    )
                    failure: ApplicationError | None = None
                    try:
                        async with heartbeating(*recorded):
                            text = ToolDef.render(await tool.fn(context, args))
                    except ToolError as exc:
                        # The tool's own message may quote what it was given.
                        bound.info("tool call", outcome="tool_error")
                        message = screen.tool_output(str(exc)).text
                        return _tool_error(request, message).model_copy(
                            update={"issued": screen.issued}
                        )
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        # Retried per the policy; its message (which reaches history
                        # and the SDK's log) redacted.
                        failure = _redacted(exc, screen)
                    if failure is not None:
                        # Raised out here: inside the handler the original (its
                        # message, the tool's frames holding the secret) would
                        # ride along as __context__, whatever `from None` says.
                        raise failure
            except CredentialRefused as exc:
                bound.info("tool call", outcome="refused")
                return _tool_error(request, str(exc))
            output = screen.tool_output(text)
        bound.info("tool call", outcome="ok", injection=output.flags or None)
        return ToolCallResult(
            call_id=call.id,
            name=call.name,
            output=output.text,
            flags=output.flags,
            issued=screen.issued,
            redactions=output.redactions,
        )
