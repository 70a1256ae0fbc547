"""What of the context a policy reads: the attribute paths under `context` its
conditions reach (`context.trace.calls`, `context.input has body`), found in
Cedar's JSON form of the policy. Cedar's cost per request grows with the
context it is handed, so each evaluation hands it only those paths: a policy
can observe nothing else (it has no other way into the context), so its
answer, and any error it meets, is the same."""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]


def _walk(node: Any, used: set[Path]) -> Path | None:
    """The context path `node` denotes (None: not a path); every path that a
    non-path expression consumes is added to `used`."""
    if isinstance(node, list):
        for item in node:
            if (path := _walk(item, used)) is not None:
                used.add(path)
        return None
    if not isinstance(node, dict):
        return None
    if node.get("Var") == "context":
        return ()
    for op in (".", "has"):
        access = node.get(op)
        if isinstance(access, dict) and "left" in access and "attr" in access and len(node) == 1:
            left = _walk(access["left"], used)
            if left is None:
                return None
            path = (*left, str(access["attr"]))
            if op == "has":
                used.add(path)
                return None
            return path
    for value in node.values():
        if (path := _walk(value, used)) is not None:
            used.add(path)
    return None


def reads(policies: list[dict[str, Any]]) -> set[Path]:
    """The paths these policies (Cedar JSON) read; () means all of it."""
    used: set[Path] = set()
    for policy in policies:
        for condition in policy.get("conditions", []):
            if (path := _walk(condition.get("body"), used)) is not None:
                used.add(path)
    return used


def outermost(paths: set[Path]) -> list[Path]:
    """The paths to copy, in order: one under another taken whole is in it."""
    if () in paths:
        return [()]
    return sorted(p for p in paths if not any(p[:n] in paths for n in range(1, len(p))))


def pruned(context: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """`context` with only `paths` (`outermost`'s, each with all beneath it)."""
    if paths == [()]:
        return context
    out: dict[str, Any] = {}
    for path in paths:
        source: Any = context
        target = out
        for name in path[:-1]:
            child = source.get(name)
            if not isinstance(child, dict):
                # Missing, or not a record: copied as it is, so that reading
                # beneath it fails (or not) exactly as in the whole context.
                if name in source:
                    target[name] = child
                break
            source, target = child, target.setdefault(name, {})
        else:
            if path[-1] in source:
                target[path[-1]] = source[path[-1]]
    return out
