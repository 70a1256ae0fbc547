"""Tools: a decorator registry, and the built-in tools of the demo."""

from sealed.tools.registry import (
    REGISTRY,
    ToolContext,
    ToolDef,
    ToolError,
    load_tool_modules,
    tool,
)

__all__ = ["REGISTRY", "ToolContext", "ToolDef", "ToolError", "load_tool_modules", "tool"]
