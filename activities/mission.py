"""The mission's activities: one model turn, one tool call. The only place
where the model, the tools and the credential backends are touched."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

import structlog
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.boundary import Boundary
from activities.heartbeat import heartbeating
from sealed.audit import AuditEvent
from sealed.contract import MODEL_TURN, RUN_TOOL
from sealed.identity.backend import SecretValue
from sealed.identity.broker import CredentialBroker, CredentialRefused
from sealed.llm import ModelConfigError, get_provider
from sealed.models import (
    ModelTurnInput,
    ModelTurnOutput,
    OriginalPrompt,
    ToolCallInput,
    ToolCallResult,
)
from sealed.profiles import ProfileSource
from sealed.prompts import PromptStore, PromptTampered
from sealed.tools.registry import ToolContext, ToolDef, ToolError

log = structlog.get_logger("sealed.activities")


def _tool_error(request: ToolCallInput, message: str) -> ToolCallResult:
    return ToolCallResult(
        call_id=request.call.id,
        name=request.call.name,
        output=f"tool error: {message}",
        is_error=True,
    )


def _credential_ttl(request: ToolCallInput) -> timedelta:
    """As long as this attempt may run, and never past the mission's deadline."""
    ttl = activity.info().start_to_close_timeout or timedelta(minutes=5)
    if request.mission_deadline is not None:
        ttl = min(ttl, request.mission_deadline - datetime.now(UTC))
    return max(ttl, timedelta(seconds=1))


class MissionActivities:
    def __init__(
        self,
        *,
        profiles: ProfileSource,
        credentials: CredentialBroker,
        boundary: Boundary,
        prompts: PromptStore,
        tools: Mapping[str, ToolDef],
    ) -> None:
        self._prompts = prompts
        self._profiles = profiles
        self._credentials = credentials
        self._boundary = boundary
        self._tools = tools

    @activity.defn(name=MODEL_TURN)
    async def model_turn(self, request: ModelTurnInput) -> ModelTurnOutput:
        provider = get_provider(request.model.provider)
        tools = [self._tools[name].info() for name in request.tools if name in self._tools]
        counts: dict[str, int] = {}
        digest, original = await self._original_prompt(request)
        async with self._model_credentials(request) as credentials:
            redactor, issued = await self._boundary.redactor(
                request.mission_id, request.known, credentials
            )
            # The model sees nothing the mission was issued, nor anything secret-shaped...
            prompt = request.model_copy(
                update={
                    "system_prompt": self._boundary.redact_json(
                        original.system_prompt, redactor, counts
                    ),
                    "goal": self._boundary.redact_json(original.goal, redactor, counts),
                    "original": None,
                    "conversation": [
                        self._boundary.redact_message(m, redactor, counts)
                        for m in request.conversation
                    ],
                }
            )
            try:
                async with heartbeating():
                    raw = await provider.complete(prompt, tools, credentials)
            except (asyncio.CancelledError, ApplicationError):
                raise
            except Exception as exc:
                # A provider's error may quote its key or the prompt: redacted,
                # type kept (the retry policy decides on it), chain dropped.
                raise self._boundary.sanitised(exc, redactor) from None
            # ... and its reply (which may echo what a tool leaked) is redacted too.
            reply = ModelTurnOutput(
                content=self._boundary.redact_json(raw.content, redactor, counts),
                tool_calls=self._boundary.redact_calls(raw.tool_calls, redactor, counts),
                issued=issued,
                prompt_digest=digest,
            )
        await self._boundary.record(request.mission_id, "model_turn", counts)
        log.info(
            "model turn",
            mission_id=request.mission_id,
            turn=request.turn,
            attempt=activity.info().attempt,
            tool_calls=[c.name for c in reply.tool_calls],
            final=reply.is_final,
        )
        return reply

    async def _original_prompt(self, request: ModelTurnInput) -> tuple[str, OriginalPrompt]:
        """Persisted on the first turn, then loaded and verified on every turn
        and every retry: what the model is told to do never comes from the
        conversation. Missing or altered: the turn fails closed, audited."""
        if request.original is not None:
            digest = await self._prompts.put(request.original)
        elif request.prompt_digest is not None:
            digest = request.prompt_digest
        else:
            raise PromptTampered("the turn carries neither the original prompt nor its digest")
        try:
            return digest, await self._prompts.get(digest)
        except PromptTampered as exc:
            await self._boundary.record_event(
                AuditEvent(
                    kind="prompt.tampered",
                    mission_id=request.mission_id,
                    outcome="refused",
                    reason=str(exc),
                )
            )
            raise

    @contextlib.asynccontextmanager
    async def _model_credentials(
        self, request: ModelTurnInput
    ) -> AsyncIterator[Mapping[str, SecretValue]]:
        """The provider key, through the same path as a tool's secrets: granted
        by the profile to the pseudo-tool `model.<provider>`, issued for this
        turn, revoked after it."""
        secret = request.model.api_key_secret
        if secret is None:
            yield {}
            return
        profile = await self._profiles.for_call(request.profile, request.mission_id)
        try:
            async with self._credentials.credentials(
                profile=profile,
                tool=f"model.{request.model.provider}",
                secrets=(secret,),
                mission_id=request.mission_id,
                call_id=f"turn-{request.turn}",
                ttl=activity.info().start_to_close_timeout or timedelta(minutes=5),
            ) as credentials:
                yield credentials
        except CredentialRefused as exc:
            raise ModelConfigError(str(exc)) from exc

    @activity.defn(name=RUN_TOOL)
    async def run_tool(self, request: ToolCallInput) -> ToolCallResult:
        call = request.call
        # Fails closed: a revoked or unknown profile ends the mission, a backend
        # that cannot say raises and the attempt is retried; the tool never runs.
        profile = await self._profiles.for_call(request.profile, request.mission_id)
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
        bound = log.bind(
            mission_id=request.mission_id,
            tool=call.name,
            call_id=call.id,
            attempt=activity.info().attempt,
        )
        try:
            async with self._credentials.credentials(
                profile=profile,
                tool=tool.name,
                secrets=tool.secrets,
                mission_id=request.mission_id,
                call_id=call.id,
                ttl=_credential_ttl(request),
            ) as secrets:
                redactor, issued = await self._boundary.redactor(
                    request.mission_id, request.known, secrets
                )
                context = ToolContext(
                    mission_id=request.mission_id,
                    call_id=call.id,
                    idempotency_key=request.idempotency_key,
                    secrets=secrets,
                )
                try:
                    async with heartbeating():
                        text = ToolDef.render(await tool.fn(context, args))
                except ToolError as exc:
                    # The tool's own message may quote what it was given.
                    bound.info("tool call", outcome="tool_error")
                    message, _ = await self._boundary.tool_output(
                        request.mission_id, call.name, str(exc), redactor
                    )
                    return _tool_error(request, message).model_copy(update={"issued": issued})
                except (asyncio.CancelledError, ApplicationError):
                    raise
                except Exception as exc:
                    # Retried per the policy; its message (which reaches history
                    # and the SDK's log) redacted, the original chain dropped.
                    raise self._boundary.sanitised(exc, redactor) from None
        except CredentialRefused as exc:
            bound.info("tool call", outcome="refused")
            return _tool_error(request, str(exc))
        output, signals = await self._boundary.tool_output(
            request.mission_id, call.name, text, redactor
        )
        bound.info("tool call", outcome="ok", injection=signals or None)
        return ToolCallResult(
            call_id=call.id, name=call.name, output=output, flags=signals, issued=issued
        )
