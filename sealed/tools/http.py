"""`http.fetch`: a plain GET, for the model to read a web page or an API.

The model chooses the URL, so it reaches public addresses only (netguard): an
internal one is refused unless the profile's grant for this tool names its host."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, Field, HttpUrl

from sealed.tools.httpclient import guarded_client
from sealed.tools.netguard import PORTS, Refused, allows
from sealed.tools.registry import ToolContext, ToolError, tool

MAX_REDIRECTS = 5


class FetchArgs(BaseModel):
    url: HttpUrl
    max_bytes: int = Field(default=20000, ge=1, le=200000)


class FetchResult(BaseModel):
    url: str
    status: int
    content_type: str | None
    text: str
    truncated: bool


@tool(name="http.fetch", destination="url")
async def fetch(ctx: ToolContext, args: FetchArgs) -> FetchResult:
    """Fetch a public URL with GET (following up to 5 redirects) and return its text, truncated."""
    url = httpx.URL(str(args.url))
    async with guarded_client(ctx.allowed_hosts) as client:
        for hop in range(MAX_REDIRECTS + 1):
            if ctx.egress_hosts is not None and not allows(
                ctx.egress_hosts, url.host, url.port or PORTS[url.scheme]
            ):
                where = f"a redirect to {url.host}" if hop else url.host
                raise ToolError(
                    f"fetching {args.url} refused: {where} is off the profile's egress allowlist"
                )
            try:
                async with client.stream("GET", url) as response:
                    if not response.is_redirect:
                        return await _read(response, args.max_bytes)
                    url = url.join(response.headers["location"])
            except Refused as e:
                after = f" (after {hop} redirect{'s' * (hop > 1)})" if hop else ""
                raise ToolError(f"fetching {args.url} refused: {e}{after}") from None
            except (httpx.RequestError, httpx.InvalidURL) as e:
                raise ToolError(f"fetching {args.url} failed: {type(e).__name__}: {e}") from None
            if url.scheme not in PORTS:
                raise ToolError(f"fetching {args.url} refused: a redirect to a '{url.scheme}' URL")
    raise ToolError(f"fetching {args.url} refused: more than {MAX_REDIRECTS} redirects")


async def _read(response: httpx.Response, max_bytes: int) -> FetchResult:
    # Streamed, so a huge body is never read past max_bytes.
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            break
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        text=bytes(body[:max_bytes]).decode(response.encoding or "utf-8", errors="replace"),
        truncated=len(body) > max_bytes,
    )
