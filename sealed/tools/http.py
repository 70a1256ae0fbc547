"""`http.fetch`: a plain GET, for the model to read a web page or an API."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, Field, HttpUrl

from sealed.tools.httpclient import async_client
from sealed.tools.registry import ToolContext, ToolError, tool


class FetchArgs(BaseModel):
    url: HttpUrl
    max_bytes: int = Field(default=20000, ge=1, le=200000)


class FetchResult(BaseModel):
    url: str
    status: int
    content_type: str | None
    text: str
    truncated: bool


@tool(name="http.fetch")
async def fetch(ctx: ToolContext, args: FetchArgs) -> FetchResult:
    """Fetch a URL with GET (following up to 5 redirects) and return its text, truncated."""
    async with async_client(follow_redirects=True, max_redirects=5) as client:
        try:
            # Streamed, so a huge body is never read past max_bytes.
            async with client.stream("GET", str(args.url)) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > args.max_bytes:
                        break
        except httpx.RequestError as e:
            raise ToolError(f"fetching {args.url} failed: {type(e).__name__}: {e}") from None
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        text=bytes(body[: args.max_bytes]).decode(response.encoding or "utf-8", errors="replace"),
        truncated=len(body) > args.max_bytes,
    )
