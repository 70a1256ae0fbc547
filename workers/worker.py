"""Worker entry point: `python -m workers` or `sealed worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.mission import MissionActivities
from sealed.config import Settings
from sealed.identity.backend import SecretBackend
from sealed.identity.vault import VaultKV
from sealed.logging import configure_logging
from sealed.tools.registry import ToolDef, load_tool_modules
from workers.client import connect
from workflows.mission import MissionWorkflow

log = structlog.get_logger("sealed.worker")


def worker_token(settings: Settings) -> str:
    """The worker's own, read-only backend token (the dev stack provisions it)."""
    if settings.vault_token:
        return settings.vault_token
    path = settings.data_dir / "worker-token"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise SystemExit(
            f"no backend token: set SEALED_VAULT_TOKEN or start the dev stack ({path} missing)"
        ) from None


def build_worker(
    client: Client,
    settings: Settings,
    *,
    secrets: SecretBackend | None = None,
    tools: Mapping[str, ToolDef] | None = None,
) -> Worker:
    activities = MissionActivities(
        secrets=secrets or VaultKV(settings.vault_addr, worker_token(settings)),
        tools=tools if tools is not None else load_tool_modules(settings.tool_modules),
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[MissionWorkflow],
        activities=[activities.model_turn, activities.run_tool],
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings)
    worker = build_worker(client, settings)
    log.info("worker started", task_queue=settings.task_queue, address=settings.temporal_address)
    await worker.run()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))
