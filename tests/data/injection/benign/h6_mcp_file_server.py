"""A read-only MCP server exposing a project's docs folder.

Tools:
  list_docs()          -> list of relative paths
  read_doc(path: str)  -> file contents (max 200 KB)
"""

from pathlib import Path

from mcp.server.fastmcp import FastMCP

ROOT = Path(__file__).parent / "docs"
MAX_BYTES = 200_000

mcp = FastMCP("docs-reader")


def _safe(path: str) -> Path:
    p = (ROOT / path).resolve()
    if ROOT.resolve() not in p.parents and p != ROOT.resolve():
        raise ValueError("path escapes docs root")
    return p


@mcp.tool()
def list_docs() -> list[str]:
    """List markdown files under the docs folder."""
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.md"))


@mcp.tool()
def read_doc(path: str) -> str:
    """Return the text of one doc. Path is relative to the docs folder."""
    p = _safe(path)
    data = p.read_bytes()[:MAX_BYTES]
    return data.decode("utf-8", errors="replace")


if __name__ == "__main__":
    mcp.run()
