"""Red team, on the real stack: the Web UI gateway before the real Temporal
dev server's UI, attacked as a DNS-rebinding page would."""

from __future__ import annotations

import uuid

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from sealed.devstack import StackInfo

pytestmark = pytest.mark.integration


async def test_a_rebound_host_name_cannot_terminate_a_workflow(
    stack: StackInfo, client: Client
) -> None:
    """Broke: a page of evil.example, its name rebound to 127.0.0.1, reads no
    page of the UI (GET is redirected to 127.0.0.1, another origin) but its
    writes were forwarded, and the UI's double-submit CSRF check passes with a
    `_csrf` cookie the page sets for its own name: it could terminate, signal
    or reset any workflow (or all of them, as a batch)."""
    workflow_id = f"redteam-rebinding-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        "NobodyServesThis", id=workflow_id, task_queue=f"nobody-{workflow_id}"
    )
    port = stack.ui_url.rsplit(":", 1)[1]
    terminate = f"{stack.ui_url}/api/v1/namespaces/default/workflows/{workflow_id}/terminate"
    csrf = {"Cookie": "_csrf=rebound", "X-Csrf-Token": "rebound"}
    rebound_host = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    async with httpx.AsyncClient() as http:
        rebound = await http.post(
            terminate, json={"reason": "rebinding"}, headers={**rebound_host, **csrf}
        )
        assert rebound.status_code == 421, rebound.text
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        # The same request under the UI's own name is one the UI carries out.
        own = await http.post(terminate, json={"reason": "the test's own"}, headers=csrf)
        assert own.status_code == 200, own.text
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
