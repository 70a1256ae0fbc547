"""The approval activities: the workflow decides (deterministically), these
write what happened to the audit log and tell the approvers: the request
POSTed as JSON to each configured webhook, signed with HMAC-SHA256 over the
body (header `X-Sealed-Signature: sha256=<hex>`) so a receiver can tell it
came from here. The body is the request as recorded: redacted arguments,
never a secret."""

from __future__ import annotations

import asyncio

import httpx
from temporalio import activity

from sealed.approvals.events import ApprovalEvent
from sealed.approvals.request import ApprovalRequest
from sealed.approvals.webhook import SIGNATURE_HEADER, signature
from sealed.audit import AuditEvent, AuditLog
from sealed.contract import APPROVAL_EVENT, NOTIFY_APPROVAL


class WebhookFailed(Exception):
    """A webhook did not take the request (says which by number, never its URL)."""


class WebhookNotifier:
    def __init__(self, urls: list[str], secret: bytes | None, timeout: float = 5.0) -> None:
        self._urls = urls
        self._secret = secret
        self._timeout = timeout

    async def notify(self, request: ApprovalRequest) -> int:
        """POSTs to every webhook; raises on the first that fails (the activity
        is retried with backoff), naming it by its place in the list only: a
        webhook's URL is often itself a credential (Slack's, Teams'), and the
        error reaches history and the audit log. Returns how many were told."""
        body = request.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            for number, url in enumerate(self._urls, 1):
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    failure = type(exc).__name__
                else:
                    if response.is_success:
                        continue
                    failure = f"HTTP {response.status_code}"
                raise WebhookFailed(f"approval webhook {number} of {len(self._urls)}: {failure}")
        return len(self._urls)


class ApprovalActivities:
    def __init__(self, audit: AuditLog, notifier: WebhookNotifier | None = None) -> None:
        self._audit = audit
        self._notifier = notifier

    @activity.defn(name=APPROVAL_EVENT)
    async def approval_event(self, event: ApprovalEvent) -> None:
        await asyncio.to_thread(self._audit.record, event.audit())

    @activity.defn(name=NOTIFY_APPROVAL)
    async def notify_approval(self, request: ApprovalRequest) -> int:
        """POSTs the request to the webhooks (retried by Temporal with backoff);
        how many were told."""
        if self._notifier is None:
            return 0
        reached = await self._notifier.notify(request)
        await asyncio.to_thread(
            self._audit.record,
            AuditEvent(
                kind="approval.notified",
                mission_id=request.mission_id,
                tool=request.tool,
                details={"request": request.id, "webhooks": reached},
            ),
        )
        return reached
