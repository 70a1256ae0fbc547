"""The Cedar schema of the events directives see, built from the worker's tool
registry, and the checks a policy set passes before anything runs it: Cedar's
validator (every attribute a policy reads exists, with the type it uses), the
tools it names exist, and `require_approval` only where a call can be held.

A policy is checked at `sealed directives check`, at `sealed profiles apply`,
at submission and when a worker starts: never first at run time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import cedarpy

from sealed.directives.policies import (
    Compiled,
    DirectiveError,
    PolicyInfo,
    PolicySource,
    compile_sources,
)

NAMESPACE = "Sealed"
MISSION, PROFILE, TOOL, MODEL, ACTION = (
    f"{NAMESPACE}::{t}" for t in ("Mission", "Profile", "Tool", "Model", "Action")
)
# A call about to run and a result just back (resource: the tool), and a model
# turn's reply before any of its calls runs (resource: the model, by name).
EVENTS = ("call", "result", "turn")

_LONG = {"type": "Long"}
_STRING = {"type": "String"}
_BOOL = {"type": "Boolean"}
_STRINGS = {"type": "Set", "element": _STRING}


def _record(attributes: Mapping[str, dict[str, Any]], *, required: bool = True) -> dict[str, Any]:
    return {
        "type": "Record",
        "attributes": {name: {**kind, "required": required} for name, kind in attributes.items()},
    }


def _cedar_type(
    schema: dict[str, Any], defs: dict[str, Any], depth: int = 0
) -> dict[str, Any] | None:
    """A JSON-schema property as a Cedar type, or None where Cedar has none
    (numbers with fractions, unions): a policy cannot read those fields."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return _cedar_type(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, depth + 1)
    if "anyOf" in schema:
        kinds = [k for k in schema["anyOf"] if k.get("type") != "null"]
        return _cedar_type(kinds[0], defs, depth + 1) if len(kinds) == 1 else None
    match schema.get("type"):
        case "string":
            return _STRING
        case "integer":
            return _LONG
        case "boolean":
            return _BOOL
        case "array":
            element = _cedar_type(schema.get("items", {}), defs, depth + 1)
            return {"type": "Set", "element": element} if element else None
        case "object" if "properties" in schema:
            fields = _fields(schema, defs, depth + 1)
            return _record(fields, required=False)
    return None


def _fields(
    schema: dict[str, Any], defs: dict[str, Any], depth: int = 0
) -> dict[str, dict[str, Any]]:
    fields = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _cedar_type(prop, defs, depth)
        if kind is not None:
            fields[name] = kind
    return fields


def input_type(arguments: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """`context.input`: every tool's arguments in one record, each optional
    (a policy guards with `has`); a name two tools type differently is left
    out, since Cedar has no union type."""
    merged: dict[str, dict[str, Any]] = {}
    clashing: set[str] = set()
    for schema in arguments.values():
        for name, kind in _fields(schema, schema.get("$defs", {})).items():
            if name in merged and merged[name] != kind:
                clashing.add(name)
            merged.setdefault(name, kind)
    return _record({k: v for k, v in merged.items() if k not in clashing}, required=False)


def _trace_type(tools: list[str]) -> dict[str, Any]:
    return _record(
        {
            "calls": _LONG,
            "calls_to_tool": _LONG,
            "calls_by_tool": _record(dict.fromkeys(tools, _LONG)),
            "turns": _LONG,
            "bytes_out": _LONG,
            "cost_microusd": _LONG,
            "elapsed_seconds": _LONG,
            "injection_flags": _LONG,
            "injected": _BOOL,
            "redactions": _LONG,
            "refused_in_a_row": _LONG,
            "tools_read": _STRINGS,
            "tools_called": _STRINGS,
        }
    )


_PROFILE = _record({"name": _STRING, "hosts": _STRINGS})


def context_type(
    tools: list[str], arguments: Mapping[str, dict[str, Any]], event: str
) -> dict[str, Any]:
    if event == "turn":
        reply: dict[str, dict[str, Any]] = {
            "bytes": _LONG,
            "final": _BOOL,
            "tool_calls": _LONG,
            "tools": _STRINGS,
            "redactions": _LONG,
            "cost_microusd": _LONG,
        }
        return _record({"profile": _PROFILE, "trace": _trace_type(tools), "reply": _record(reply)})
    attributes: dict[str, dict[str, Any]] = {
        "input": input_type(arguments),
        "tool": _record(
            {
                "name": _STRING,
                "privilege": _STRING,
                "side_effects": _BOOL,
                "egress": _BOOL,
                "host": _STRING,
                "host_port": _STRING,
            }
        ),
        "profile": _PROFILE,
        "arguments": _record({"bytes": _LONG, "placeholder": _BOOL, "secret_name": _BOOL}),
        "provenance": _record(
            {
                "untrusted": _BOOL,
                "untrusted_arguments": _STRINGS,
                "untrusted_tools": _STRINGS,
                "model_arguments": _STRINGS,
                "trusted_arguments": _STRINGS,
            }
        ),
        "trace": _trace_type(tools),
    }
    if event == "result":
        attributes["output"] = _record(
            {
                "bytes": _LONG,
                "is_error": _BOOL,
                "injection": _BOOL,
                "flags": _STRINGS,
                "redactions": _LONG,
            }
        )
    return _record(attributes)


def cedar_schema(arguments: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """`arguments`: each tool's arguments as JSON schema (its pydantic model's)."""
    tools = sorted(arguments)
    return {
        NAMESPACE: {
            "entityTypes": {
                "Profile": {},
                "Mission": {"memberOfTypes": ["Profile"]},
                "Tool": {},
                "Model": {},
            },
            "actions": {
                event: {
                    "appliesTo": {
                        "principalTypes": ["Mission"],
                        "resourceTypes": ["Model" if event == "turn" else "Tool"],
                        "context": context_type(tools, arguments, event),
                    }
                }
                for event in EVENTS
            },
        }
    }


def tool_arguments(tools: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each registered tool's arguments as JSON schema (sealed.tools.ToolDef)."""
    return {name: tool.args_model.model_json_schema() for name, tool in tools.items()}


def checked(
    sources: list[PolicySource], tools: Mapping[str, Any], relaxed: list[str] | None = None
) -> Compiled:
    """The set compiled and checked against these tools (DirectiveError if not)."""
    compiled = compile_sources(sources, relaxed or [])
    check(compiled, tool_arguments(tools))
    return compiled


def _entities(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str) and isinstance(node.get("id"), str):
            yield node["type"], node["id"]
        for value in node.values():
            yield from _entities(value)
    elif isinstance(node, list):
        for value in node:
            yield from _entities(value)


def _matches_beyond_calls(info: PolicyInfo) -> bool:
    """Whether the policy can match an event other than a call (a result, a
    turn): its action scope names one, or names none and its resource scope
    does not pin it to tools."""
    scope = info.cedar.get("action", {})
    if scope.get("op") != "All":
        named = [
            e["id"] for e in ([scope["entity"]] if "entity" in scope else scope.get("entities", []))
        ]
        return any(event != "call" for event in named)
    resource = info.cedar.get("resource", {})
    pinned = [resource.get("entity", {}), *resource.get("entities", [])]
    return not (
        any(e.get("type") == TOOL for e in pinned)
        or (resource.get("op") == "is" and resource.get("entity_type") == TOOL)
    )


def check(compiled: Compiled, arguments: Mapping[str, dict[str, Any]]) -> None:
    """DirectiveError unless every policy type-checks against the events,
    names only known tools and actions, and asks for approval only of calls."""
    problems: list[str] = []
    for info in compiled.infos:
        for kind, name in _entities(info.cedar):
            if kind == TOOL and name not in arguments:
                problems.append(f"{info.where}: unknown tool '{name}' (known: {sorted(arguments)})")
            elif kind == ACTION and name not in EVENTS:
                problems.append(f"{info.where}: unknown action '{name}' (events: {list(EVENTS)})")
        if info.action == "require_approval" and _matches_beyond_calls(info):
            problems.append(
                f"{info.where}: require_approval holds a call before it runs; scope the policy "
                f'to action == {ACTION}::"call"'
            )
    if compiled.infos:
        result = cedarpy.validate_policies(
            "\n".join(compiled.texts), json.dumps(cedar_schema(arguments))
        )
        for error in result.errors:
            info = compiled.infos[int(error.policy_id.removeprefix("policy"))]
            message = error.error.removeprefix(f"for policy `{error.policy_id}`, ")
            problems.append(f"{info.where}: {message}")
    if problems:
        raise DirectiveError(problems)
