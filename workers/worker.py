"""The worker: the composition root. It builds the spine from settings (the
worker's own AppRole identity and everything read with it), registers the
workflow and the activities, and runs them: `python -m sealed.workers` or
`sealed worker`. The shared worker polls the shared task queue; a per-profile
worker (settings.worker_profiles) polls each of its dedicated profiles' own
queues, logged in as the AppRole that may mint under their roles only."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from sealed.activities.approval import ApprovalActivities, WebhookNotifier
from sealed.activities.directives import DirectiveActivities
from sealed.activities.mission import MissionActivities
from sealed.approvals.registry import ApproverKeys
from sealed.audit import AuditLog
from sealed.client import connect
from sealed.config import Settings
from sealed.directives.system import system_directives
from sealed.identity.agentcore import AgentCoreApiKey, AgentCoreOAuth2
from sealed.identity.aws import AwsSecretsManager, AwsSts, aws_client_factory
from sealed.identity.backend import CredentialBackend
from sealed.identity.broker import CredentialBroker
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.credentials import VaultBackend
from sealed.identity.openbao.keys import VaultRedactionKey
from sealed.identity.openbao.stores import (
    VaultApproverKeys,
    VaultProfiles,
    VaultPromptStore,
    vault_audit_log,
)
from sealed.identity.profiles import ProfileSource, profile_queue
from sealed.llm.prices import PriceTable
from sealed.logging import configure_logging
from sealed.pinning import PromptStore
from sealed.redaction.screen import Screens
from sealed.tools.registry import ToolDef, load_tool_modules
from sealed.workflows.mission import MissionWorkflow

log = structlog.get_logger("sealed.worker")
# How far behind the audit log its anchor in OpenBao may be: off the tool
# calls' path, a burst of batches costs one write.
ANCHOR_INTERVAL = 0.5


def aws_backends(settings: Settings) -> list[CredentialBackend]:
    """AWS clients are built on first use: a worker whose profiles name no AWS
    secret never touches AWS."""
    factory = aws_client_factory(settings.aws_region, settings.aws_endpoint_url)
    return [
        AwsSecretsManager(factory),
        AwsSts(factory),
        AgentCoreApiKey(factory, workload=settings.agentcore_workload),
        AgentCoreOAuth2(factory, workload=settings.agentcore_workload),
    ]


@dataclass(frozen=True)
class Spine:
    """What every activity goes through: the profiles (I, III-A), the credential
    broker (II, III-D), the per-call screens (III-B), the prompt store (III-C)
    and the audit log they all write to."""

    profiles: ProfileSource
    credentials: CredentialBroker
    screens: Screens
    prompts: PromptStore
    audit: AuditLog
    # Approvers' public keys (IV); without them no call can be approved.
    approvers: ApproverKeys | None = None


def vault_spine(settings: Settings) -> Spine:
    """The worker's own AppRole identity and everything it reads with it: the
    profiles, every tool call's credentials from any backend, the redaction key."""
    vault = AppRoleClient(settings.vault_addr, *settings.worker_approle())
    backend = VaultBackend(vault)
    backends: dict[str, CredentialBackend] = dict.fromkeys(VaultBackend.kinds, backend)
    backends.update({b.name: b for b in aws_backends(settings)})
    audit = vault_audit_log(
        settings.audit_path(), vault.call, settings.audit_anchor, interval=ANCHOR_INTERVAL
    )
    return Spine(
        profiles=VaultProfiles(vault),
        credentials=CredentialBroker(backends, audit),
        screens=Screens(VaultRedactionKey(vault), audit),
        prompts=VaultPromptStore(vault),
        audit=audit,
        approvers=VaultApproverKeys(vault),
    )


# The workflow checks approvers' Ed25519 signatures with `cryptography`, whose
# native code imports its exception types when a signature fails: inside the
# sandbox's import machinery that aborts the process, so it passes through
# (it is deterministic and holds no state between calls).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("cryptography", "cedarpy")
)


def task_queues(settings: Settings) -> list[str]:
    """The shared queue, or each of a per-profile worker's profiles' own."""
    return [profile_queue(p) for p in settings.worker_profiles] or [settings.task_queue]


def build_workers(
    client: Client,
    settings: Settings,
    *,
    spine: Spine | None = None,
    tools: Mapping[str, ToolDef] | None = None,
) -> list[Worker]:
    """One Temporal worker per task queue this process serves, all on one
    client, one spine and one set of activities, which refuse any profile
    this process does not serve before minting anything."""
    spine = spine or vault_spine(settings)
    tools = tools if tools is not None else load_tool_modules(settings.tool_modules)
    activities = MissionActivities(
        profiles=spine.profiles,
        credentials=spine.credentials,
        screens=spine.screens,
        prompts=spine.prompts,
        audit=spine.audit,
        tools=tools,
        serves=frozenset(settings.worker_profiles) or None,
        approver_keys=spine.approvers,
        system_directives=system_directives(settings.directives_file, tools),
        prices=PriceTable.load(settings.model_prices_file),
    )
    directives = DirectiveActivities(spine.audit, spine.profiles, spine.credentials)
    secret = settings.approval_webhook_secret
    approvals = ApprovalActivities(
        spine.audit,
        WebhookNotifier(
            [url.get_secret_value() for url in settings.approval_webhooks],
            secret.get_secret_value().encode() if secret else None,
        )
        if settings.approval_webhooks
        else None,
    )
    return [
        Worker(
            client,
            task_queue=queue,
            workflows=[MissionWorkflow],
            activities=[
                activities.model_turn,
                activities.run_tool,
                approvals.approval_event,
                approvals.notify_approval,
                directives.directive_event,
                directives.directive_abort,
            ],
            # An abort or a revocation reaches a running call in a heartbeat
            # response: at most a second late, not 0.8 x the heartbeat timeout.
            max_heartbeat_throttle_interval=timedelta(seconds=1),
            workflow_runner=WORKFLOW_RUNNER,
        )
        for queue in task_queues(settings)
    ]


def build_worker(
    client: Client,
    settings: Settings,
    *,
    spine: Spine | None = None,
    tools: Mapping[str, ToolDef] | None = None,
) -> Worker:
    """The worker of a process that serves one task queue (the shared one, or
    one dedicated profile's)."""
    workers = build_workers(client, settings, spine=spine, tools=tools)
    if len(workers) != 1:
        raise ValueError(f"{len(workers)} task queues to serve: use build_workers")
    return workers[0]


async def run_worker(settings: Settings) -> None:
    # The login first: without it, that (and which bootstrap makes it) is the
    # error to see, not the codec keys the client would read with it.
    spine = vault_spine(settings)
    client = await connect(settings)
    workers = build_workers(client, settings, spine=spine)
    log.info(
        "worker started",
        task_queues=task_queues(settings),
        profiles=settings.worker_profiles or "shared",
        address=settings.temporal_address,
    )
    # One stops, all stop: a worker half-serving its profiles would hide it.
    async with asyncio.TaskGroup() as group:
        for worker in workers:
            group.create_task(worker.run())


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))
