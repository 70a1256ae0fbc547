"""The `@tool` decorator and the registry the worker fills from configured modules.

A tool is `async def fn(ctx: ToolContext, args: SomeModel) -> str | BaseModel | ...`:
its arguments are a pydantic model, so the model's JSON is validated before the
tool runs and the model gets the validation message back when it is wrong."""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from pydantic import BaseModel, ValidationError

from sealed.identity.backend import SecretValue
from sealed.models import ToolInfo
from sealed.types import Privilege


class ToolError(Exception):
    """An error the model should see and may recover from (not found, refused)."""


class ToolConfigError(Exception):
    """The tool is wired wrong: retrying cannot help."""


@dataclass(frozen=True)
class ToolContext:
    mission_id: str
    call_id: str
    idempotency_key: str
    secrets: Mapping[str, SecretValue] = field(default_factory=dict)
    # Internal hosts `http.fetch` may reach anyway: the profile's `hosts` grant for
    # the tool called. None by default, so every internal address is refused.
    allowed_hosts: frozenset[str] = frozenset()
    # Where the profile's egress allowlist lets the tool send (Sealed V), for a
    # tool that follows where a server points it (a redirect) after the
    # directives judged where the model pointed it. None: not restricted.
    egress_hosts: frozenset[str] | None = None

    def secret(self, name: str) -> SecretValue:
        try:
            return self.secrets[name]
        except KeyError:
            raise ToolConfigError(f"secret '{name}' was not declared by this tool") from None


ToolFn = Callable[[ToolContext, Any], Awaitable[Any]]


@dataclass(frozen=True)
class ToolDef:
    name: str
    privilege: Privilege
    secrets: tuple[str, ...]
    side_effects: bool
    description: str
    args_model: type[BaseModel]
    fn: ToolFn
    # The argument naming where the tool sends (a URL or host): directives
    # check it against the profile's egress allowlist.
    destination: str | None = None

    @functools.cache  # noqa: B019 (tool definitions live as long as the process)
    def info(self) -> ToolInfo:
        """What the model is told; built once, not on every model turn."""
        return ToolInfo(
            name=self.name,
            description=self.description,
            privilege=self.privilege,
            parameters=self.args_model.model_json_schema(),
        )

    def canonical(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as the tool will run with them (validated, coerced and
        normalised: `"1"` is 1, a URL is the one the tool will fetch), so that
        directives judge what runs; unchanged when they are not valid (the
        tool refuses them, and the model is told)."""
        try:
            model = self.args_model.model_validate(arguments)
        except ValidationError:
            return arguments
        canonical: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
        return canonical

    @staticmethod
    def render(output: Any) -> str:
        """Tool output as the text the model reads."""
        if isinstance(output, str):
            return output
        if isinstance(output, BaseModel):
            return output.model_dump_json()
        if isinstance(output, list) and all(isinstance(o, BaseModel) for o in output):
            return json.dumps([o.model_dump(mode="json") for o in output])
        return json.dumps(output, default=str)


REGISTRY: dict[str, ToolDef] = {}


def tool(
    *,
    name: str,
    privilege: Privilege = "low",
    secrets: Iterable[str] = (),
    side_effects: bool = False,
    destination: str | None = None,
) -> Callable[[ToolFn], ToolFn]:
    def register(fn: ToolFn) -> ToolFn:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"tool '{name}' must be an async function")
        params = list(inspect.signature(fn).parameters)
        hints = get_type_hints(fn)
        if len(params) != 2 or not (
            isinstance(hints.get(params[1]), type) and issubclass(hints[params[1]], BaseModel)
        ):
            raise TypeError(f"tool '{name}' must take (ctx: ToolContext, args: <pydantic model>)")
        if destination is not None and destination not in hints[params[1]].model_fields:
            raise TypeError(f"tool '{name}': destination '{destination}' is not an argument")
        existing = REGISTRY.get(name)
        if existing is not None and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"tool '{name}' is registered twice")
        REGISTRY[name] = ToolDef(
            name=name,
            privilege=privilege,
            secrets=tuple(secrets),
            side_effects=side_effects,
            description=inspect.cleandoc(fn.__doc__ or name),
            args_model=hints[params[1]],
            fn=fn,
            destination=destination,
        )
        return fn

    return register


def load_tool_modules(modules: Iterable[str]) -> dict[str, ToolDef]:
    """Import each module so its `@tool`s register; returns the registry."""
    for module in modules:
        importlib.import_module(module)
    return REGISTRY
