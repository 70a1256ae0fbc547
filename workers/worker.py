"""Worker entry point: `python -m workers` or `sealed worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

import boto3
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.mission import MissionActivities
from sealed.audit import AuditLog
from sealed.config import Settings
from sealed.identity.agentcore import AgentCoreApiKey, AgentCoreOAuth2
from sealed.identity.aws import AwsSecretsManager, AwsSts, default_client_factory
from sealed.identity.backend import CredentialBackend
from sealed.identity.broker import CredentialBroker
from sealed.identity.vault import VaultBackend, VaultWorker
from sealed.identity.vault_profiles import VaultProfiles
from sealed.logging import configure_logging
from sealed.profiles import ProfileSource
from sealed.tools.registry import ToolDef, load_tool_modules
from workers.client import connect
from workflows.mission import MissionWorkflow

log = structlog.get_logger("sealed.worker")


def aws_backends(settings: Settings) -> list[CredentialBackend]:
    """AWS clients are built on first use: a worker whose profiles name no AWS
    secret never touches AWS."""
    factory = default_client_factory(
        boto3.session.Session(region_name=settings.aws_region),
        endpoint_url=settings.aws_endpoint_url,
    )
    return [
        AwsSecretsManager(factory),
        AwsSts(factory),
        AgentCoreApiKey(factory, workload=settings.agentcore_workload),
        AgentCoreOAuth2(factory, workload=settings.agentcore_workload),
    ]


def vault_identity(settings: Settings) -> tuple[ProfileSource, CredentialBroker]:
    """The worker's own AppRole identity, the profiles it reads with it, and the
    broker that mints every tool call's credentials from any backend."""
    vault = VaultWorker(settings.vault_addr, *settings.worker_approle())
    backend = VaultBackend(vault)
    backends: dict[str, CredentialBackend] = dict.fromkeys(VaultBackend.kinds, backend)
    backends.update({b.name: b for b in aws_backends(settings)})
    return VaultProfiles(vault), CredentialBroker(backends, AuditLog(settings.audit_path()))


def build_worker(
    client: Client,
    settings: Settings,
    *,
    identity: tuple[ProfileSource, CredentialBroker] | None = None,
    tools: Mapping[str, ToolDef] | None = None,
) -> Worker:
    profiles, credentials = identity or vault_identity(settings)
    activities = MissionActivities(
        profiles=profiles,
        credentials=credentials,
        tools=tools if tools is not None else load_tool_modules(settings.tool_modules),
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[MissionWorkflow],
        activities=[activities.model_turn, activities.run_tool],
        # An abort or a revocation reaches a running call in a heartbeat
        # response: at most a second late, not 0.8 x the heartbeat timeout.
        max_heartbeat_throttle_interval=timedelta(seconds=1),
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
