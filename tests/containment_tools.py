"""A tool and a model that leak what they were granted, on purpose, in every
form of tests.containment: the containment sweep's adversaries. Loaded by the
integration tests' worker (tests.integration.conftest.TOOL_MODULES)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sealed.identity.backend import SecretValue
from sealed.llm.base import ModelTransientError, register_provider
from sealed.llm.scripted import ScriptedProvider
from sealed.models import ModelReply, ModelRequest
from sealed.tools.registry import ToolConfigError, ToolContext, ToolError, tool
from tests.containment import FORM_GROUPS, FORMS, json_leaves, leak_lines

ECHO_PROVIDER = "containment_echo"
Via = Literal["output", "tool_error", "raise_once", "app_error", "config_error"]


class LeakArgs(BaseModel):
    secret: Literal["canary", "document"] = "canary"
    leaf: int | None = Field(default=None, description="the document's n-th leaf, not all of it")
    forms: list[str] = Field(default_factory=list, description="empty: every form")
    via: Via = "output"
    note: str = Field(default="", description="ignored: carries what the model echoes")

    @field_validator("forms")
    @classmethod
    def _known(cls, forms: list[str]) -> list[str]:
        unknown = [f for f in forms if f not in FORMS]
        if unknown:
            raise ValueError(f"unknown forms: {unknown}")
        return forms


@tool(name="test.leak", secrets=["canary", "document"])
async def leak(ctx: ToolContext, args: LeakArgs) -> str:
    """Leak a granted secret (or one leaf of a structured one) in the forms named,
    by the way named: in its output, a ToolError, an exception on the first
    attempt only, a non-retryable ApplicationError (message and details), or a
    ToolConfigError (a plain exception that ends the mission)."""
    value = ctx.secret(args.secret).reveal()
    label: str = args.secret
    if args.leaf is not None:
        value, label = json_leaves(value)[args.leaf], f"{label}#{args.leaf}"
    text = leak_lines(f"{args.via}:{label}", value, tuple(args.forms) or None)
    if args.via == "tool_error":
        raise ToolError(text)
    if args.via == "raise_once":
        if activity.info().attempt == 1:
            raise RuntimeError(text)
        return "[leak:raise_once] second attempt: nothing leaked"
    if args.via == "app_error":
        leaves = json_leaves(ctx.secret("document").reveal())
        raise ApplicationError(
            text,
            leak_lines("app_error-detail:canary", value, ("raw", "zw-200b", "fullwidth-all")),
            {"nested": {"leaf": f"[leak:app_error-detail:document#0:raw] {leaves[0]}"}},
            [f"[leak:app_error-detail:document:raw] {ctx.secret('document').reveal()}"],
            type="ContainmentLeak",
            non_retryable=True,
        )
    if args.via == "config_error":
        raise ToolConfigError(text)
    return text


class EchoProvider(ScriptedProvider):
    """The scripted model (its turns from the mission's script), which also echoes
    what it reads and leaks its own key. In any string of a scripted turn:
    `{key}` becomes its key in every form, `{echo}` what the tools it just heard
    from said (their tags marked `echo-`), and a `say` of `{fail-once}` makes the
    turn's first attempt raise a retryable error quoting the key in every form."""

    async def complete(
        self, request: ModelRequest, credentials: Mapping[str, SecretValue]
    ) -> ModelReply:
        reply = await super().complete(request, credentials)
        secret = request.model.api_key_secret
        key = credentials[secret].reveal() if secret else ""
        if reply.content.startswith("{fail-once:"):
            group = FORM_GROUPS[int(reply.content.removeprefix("{fail-once:").rstrip("}"))]
            if activity.info().attempt == 1:
                raise ModelTransientError(leak_lines("model_error:key", key, group))
            reply = reply.model_copy(update={"content": "[leak:model_error] recovered"})
        tail: list[str] = []
        for message in reversed(request.conversation):
            if message.role != "tool":
                break
            tail.insert(0, message.content.replace("[leak:", "[leak:echo-"))
        echo = "\n".join(tail)

        def fill(text: str, where: str) -> str:
            return text.replace("{key}", leak_lines(f"model_{where}:key", key)).replace(
                "{echo}", echo
            )

        def fill_json(value: Any) -> Any:
            if isinstance(value, str):
                return fill(value, "args")
            if isinstance(value, list):
                return [fill_json(v) for v in value]
            if isinstance(value, dict):
                return {k: fill_json(v) for k, v in value.items()}
            return value

        calls = [
            c.model_copy(update={"arguments": fill_json(c.arguments)}) for c in reply.tool_calls
        ]
        return ModelReply(content=fill(reply.content, "say"), tool_calls=calls)


register_provider(ECHO_PROVIDER, EchoProvider)
