"""Trace facts: what the mission has done so far, counted in the workflow as
it goes (so they replay exactly), and the Cedar context of each event built
from them, the call's arguments and their provenance."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic_core import Url

from sealed.directives.policies import DirectiveSet, ToolFacts
from sealed.directives.provenance import Provenance
from sealed.models import ToolCall, ToolCallResult

_PLACEHOLDER = re.compile(r"\[REDACTED:[^\]\s]{1,200}\]")
# Cedar's JSON form reads a record with one of these keys as an entity or an
# extension value: a model's argument must not forge one.
_ESCAPES = ("__entity", "__extn", "__expr")
_MAX_DEPTH = 16
_I64 = 2**63


def cedar_value(value: Any, depth: int = 0) -> Any:
    """A JSON value as Cedar's context JSON reads it: objects are records,
    arrays sets, integers Longs; what Cedar has no type for (fractions,
    integers past 64 bits, nesting deeper than 16) becomes its JSON text, and
    null is left out."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_I64 <= value < _I64 else str(value)
    if depth >= _MAX_DEPTH or isinstance(value, float):
        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (RecursionError, ValueError):  # deeper than the encoder goes
            return " ".join(_strings(value))
    if isinstance(value, dict):
        return {
            (f"_{k}" if k in _ESCAPES else str(k)): cedar_value(v, depth + 1)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [cedar_value(v, depth + 1) for v in value if v is not None]
    return str(value)


def _strings(value: Any) -> list[str]:
    """Every string (keys too) under `value`, without recursion: a model may
    nest its arguments deeper than Python's stack."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found += [str(k) for k in item]
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return found


def canonical_bytes(arguments: dict[str, Any]) -> int:
    try:
        text = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    except (RecursionError, ValueError):  # too deep to encode: at least its strings
        return sum(len(s.encode()) for s in _strings(arguments))
    return len(text.encode())


def argument_facts(arguments: dict[str, Any], secret_names: list[str]) -> dict[str, Any]:
    texts = _strings(arguments)
    names = [n.casefold() for n in secret_names if n]
    return {
        "bytes": canonical_bytes(arguments),
        "placeholder": any(_PLACEHOLDER.search(t) for t in texts),
        "secret_name": any(n in t.casefold() for t in texts for n in names),
    }


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}


def destination(tool: ToolFacts, arguments: dict[str, Any]) -> tuple[str, str]:
    """(host, host:port) a tool that declares its destination sends to, read
    as the tools' own URL parser reads it (the WHATWG standard's: a backslash
    or a leading control character is read as a browser would, not as
    urllib would); host:port only for a port other than the scheme's own;
    empty when it cannot be read (which no allowlist holds: fails closed)."""
    raw = arguments.get(tool.destination or "")
    if not isinstance(raw, str):
        return "", ""
    candidates = [raw] if "://" in raw else [raw, f"https://{raw.strip()}"]
    for candidate in candidates:
        try:
            url = Url(candidate)
        except ValueError:
            continue
        if url.host:
            host = url.host.lower()
            port = url.port
            if port is None or port == _DEFAULT_PORTS.get(url.scheme):
                return host, host
            return host, f"{host}:{port}"
    return "", ""


class Trace:
    """The facts of the mission so far; the workflow tells it each turn,
    each call that ran and each call the runtime refused."""

    def __init__(self, started: datetime, tools: list[str]) -> None:
        self._started = started
        self.turns = 0
        self.calls = 0
        self.by_tool: dict[str, int] = dict.fromkeys(sorted(tools), 0)
        self.bytes_out = 0
        self.cost_microusd = 0
        self.injection_flags = 0
        self.redactions = 0
        self.refused_in_a_row = 0
        self.tools_read: list[str] = []
        self.tools_called: list[str] = []

    def turned(self, cost_microusd: int, redactions: int) -> None:
        self.turns += 1
        self.cost_microusd += cost_microusd
        self.redactions += redactions

    def ran(self, call: ToolCall, result: ToolCallResult, tool: ToolFacts) -> None:
        self.calls += 1
        self.by_tool[call.name] = self.by_tool.get(call.name, 0) + 1
        if tool.side_effects or tool.destination:
            self.bytes_out += canonical_bytes(call.arguments)
        self.injection_flags += bool(result.flags)
        self.redactions += result.redactions
        self.refused_in_a_row = 0
        if call.name not in self.tools_called:
            self.tools_called.append(call.name)
        if not result.is_error and call.name not in self.tools_read:
            self.tools_read.append(call.name)

    def refused(self) -> None:
        self.refused_in_a_row += 1

    def facts(self, now: datetime, tool: str) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "calls_to_tool": self.by_tool.get(tool, 0),
            "calls_by_tool": dict(self.by_tool),
            "turns": self.turns,
            "bytes_out": self.bytes_out,
            "cost_microusd": self.cost_microusd,
            "elapsed_seconds": int((now - self._started).total_seconds()),
            "injection_flags": self.injection_flags,
            "injected": self.injection_flags > 0,
            "redactions": self.redactions,
            "refused_in_a_row": self.refused_in_a_row,
            "tools_read": list(self.tools_read),
            "tools_called": list(self.tools_called),
        }


def call_context(
    directives: DirectiveSet,
    profile: str,
    call: ToolCall,
    provenance: Provenance,
    trace: dict[str, Any],
) -> dict[str, Any]:
    tool = directives.tools.get(call.name, ToolFacts())
    host, host_port = destination(tool, call.arguments)
    return {
        "input": cedar_value(call.arguments),
        "tool": {
            "name": call.name,
            "privilege": tool.privilege,
            "side_effects": tool.side_effects,
            "egress": tool.destination is not None,
            "host": host,
            "host_port": host_port,
        },
        "profile": {"name": profile, "hosts": list(directives.hosts)},
        "arguments": argument_facts(call.arguments, directives.secret_names),
        "provenance": {
            "untrusted": bool(provenance.untrusted_arguments),
            "untrusted_arguments": provenance.untrusted_arguments,
            "untrusted_tools": provenance.untrusted_tools,
            "model_arguments": provenance.model_arguments,
            "trusted_arguments": provenance.trusted_arguments,
        },
        "trace": trace,
    }


def result_context(call_context: dict[str, Any], result: ToolCallResult) -> dict[str, Any]:
    return {
        **call_context,
        "output": {
            "bytes": len(result.output.encode()),
            "is_error": result.is_error,
            "injection": bool(result.flags),
            "flags": list(result.flags),
            "redactions": result.redactions,
        },
    }
