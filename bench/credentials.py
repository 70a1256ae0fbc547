"""Credentials against a real OpenBao, two results:

1. issue-use-revoke latency of one tool call's secret through the runtime
   (CredentialBroker -> VaultBackend -> OpenBao, audit log included) next to
   the raw floor measured in the same run (plain hvac: create the token, read
   the secret with it, revoke it by accessor: the same three backend calls),
   samples interleaved; target: runtime p50 within 1.25x of the floor's. Both
   as the shared worker (a shared profile) and as a per-profile worker (its
   own AppRole, a dedicated copy of the profile): the same target for each.
2. revocation fan-out: revoke a profile with 50 missions stalled in a tool
   call and 50 leaked credentials, timed until every credential is refused and
   every mission has ended aborted; target: under 2 s.

    python -m bench.credentials [--samples 300] [--warmup 20] [--missions 50]

One dev stack on free ports, an in-process worker. A missed target prints FAIL
but exits 0; a run that does not really do what it measures raises."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
from temporalio.client import Client, WorkflowHandle

from bench.stack import bench_stack, use_stack
from sealed.audit import AuditEvent, AuditLog
from sealed.client import connect
from sealed.config import DEFAULT_TOOL_MODULES, Settings
from sealed.devstack import StackInfo
from sealed.identity.backend import CredentialRequest, Lease, SecretSpec
from sealed.identity.bootstrap import bootstrap
from sealed.identity.broker import CredentialBroker
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.approle import AppRoleClient
from sealed.identity.openbao.credentials import VaultBackend
from sealed.identity.openbao.kv import KV_MOUNT, read_kv, secret_path
from sealed.identity.profiles import Profile, load_profile, token_role, tool_policy
from sealed.missions import submit
from sealed.models import MissionResult, MissionSpec, MissionStatus
from sealed.revocation import Revoker
from sealed.tools.registry import ToolContext, load_tool_modules
from sealed.workers.worker import build_worker

TESTER = Path(__file__).resolve().parents[1] / "tests" / "data" / "profiles" / "tester.yaml"
TOOL, SECRET, TTL = "tickets.comment", "tickets_token", timedelta(minutes=1)
TARGET_RATIO, TARGET_FANOUT = 1.25, 2.0
LEAK = SecretSpec(backend="vault-token", ref="probe")
Mission = WorkflowHandle[object, MissionResult]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def pct(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- 1. issue-use-revoke ------------------------------------------------------------


class RawFloor:
    """The three backend calls in plain hvac, the worker's AppRole identity,
    long-lived clients: what no runtime on this backend can go below."""

    def __init__(self, url: str, approle: tuple[str, str], profile: Profile) -> None:
        self.worker = hvac.Client(url=url, timeout=5)
        self.worker.auth.approle.login(role_id=approle[0], secret_id=approle[1])
        self.reader = hvac.Client(url=url, timeout=5)
        self.role, self.policy = token_role(profile.name), tool_policy(profile.name, TOOL)
        self.path = secret_path(profile.secrets[SECRET].ref)
        self.split: list[tuple[float, float, float]] = []  # create, read, revoke

    def create(self) -> dict[str, Any]:
        auth: dict[str, Any] = self.worker.auth.token.create(
            role_name=self.role, policies=[self.policy], ttl=f"{int(TTL.total_seconds())}s"
        )["auth"]
        return auth

    def __call__(self) -> str:
        t0 = time.perf_counter()
        auth = self.create()
        t1 = time.perf_counter()
        self.reader.token = auth["client_token"]
        data = self.reader.secrets.kv.v2.read_secret_version(
            path=self.path, mount_point=KV_MOUNT, raise_on_deleted_version=True
        )["data"]["data"]
        t2 = time.perf_counter()
        self.worker.auth.token.revoke_accessor(auth["accessor"])
        self.split.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
        return str(data["value"])


async def through_runtime(broker: CredentialBroker, profile: Profile, n: int) -> str:
    async with broker.credentials(
        profile=profile,
        tool=TOOL,
        secrets=(SECRET,),
        mission_id=f"bench-{n}",
        call_id=f"call-{n}-0",
        ttl=TTL,
    ) as secrets:
        return secrets[SECRET].reveal()  # the use


async def timed_async(fn: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def per_profile_login(admin: VaultAdmin, shared: Profile) -> tuple[Profile, tuple[str, str]]:
    """A dedicated copy of the profile and the per-profile worker's login for
    it, as `sealed bootstrap --worker-for` makes them."""
    profile = Profile.model_validate(
        {**shared.model_dump(), "name": f"{shared.name}-dedicated", "worker": "dedicated"}
    )
    admin.apply_profile(profile)
    _, logins = bootstrap(admin, profiles=None, secret_id_ttl="1h", workers_for=[[profile.name]])
    [login] = [x for x in logins if x.profiles == (profile.name,)]
    return profile, (login.role_id, login.secret_id.get_secret_value())


async def issue_use_revoke(
    info: StackInfo, settings: Settings, admin: VaultAdmin, samples: int, warmup: int
) -> None:
    shared = admin.profile("tester")
    assert shared is not None
    dedicated, dedicated_login = per_profile_login(admin, shared)
    expected = (info.data_dir / "tickets-token").read_text().strip()
    approle = settings.worker_approle()
    audit = AuditLog(info.data_dir / "bench-audit.log")
    # Each identity, the runtime's way and the floor's, on its own profile.
    vault = AppRoleClient(info.vault_addr, *approle)
    own = AppRoleClient(info.vault_addr, *dedicated_login)
    brokers: dict[str, tuple[CredentialBroker, Profile]] = {}
    floors: dict[str, RawFloor] = {}
    for kind, client, profile, login in (
        ("runtime", vault, shared, approle),
        ("per-profile", own, dedicated, dedicated_login),
    ):
        # Logged in before the count (a stale ~/.vault-token, which hvac.Client
        # picks up, is refused first: AppRoleClient then logs in).
        client.call("login", lambda c: c.auth.token.lookup_self())
        backend = VaultBackend(client)
        brokers[kind] = (
            CredentialBroker(dict.fromkeys(VaultBackend.kinds, backend), audit),
            profile,
        )
        floors[f"{kind} floor"] = RawFloor(info.vault_addr, login, profile)
    raw = floors["runtime floor"]

    async def sample(kind: str, n: int) -> str:
        if kind in floors:
            return floors[kind]()
        broker, profile = brokers[kind]
        return await through_runtime(broker, profile, n)

    tokens_before = len(admin.client.adapter.list("/v1/auth/token/accessors")["data"]["keys"])
    kinds = [*brokers, *floors]
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(warmup + samples):
        # Rotate who goes first, so a drift hits all alike. The floor's calls
        # block the loop, as plain hvac does; all are timed the same way.
        for kind in kinds[i % len(kinds) :] + kinds[: i % len(kinds)]:
            started = time.perf_counter()
            value = await sample(kind, i)
            seconds = time.perf_counter() - started
            if value != expected:
                raise RuntimeError(f"a {kind} sample did not read the real secret")
            if i >= warmup:
                times[kind].append(seconds)
    if len(audit.events()) != 2 * 3 * (warmup + samples) or not audit.verify().ok:
        raise RuntimeError("the audit log does not hold 3 chained events per call")
    tokens_after = len(admin.client.adapter.list("/v1/auth/token/accessors")["data"]["keys"])
    if tokens_after != tokens_before:
        raise RuntimeError(f"{tokens_after - tokens_before} per-call tokens left alive")
    p50 = {kind: pct(t, 0.5) for kind, t in times.items()}
    p99 = {kind: pct(t, 0.99) for kind, t in times.items()}
    f50, f99 = p50["runtime floor"], p99["runtime floor"]
    r50 = p50["runtime"]
    split = [ms(statistics.median(x[j] for x in raw.split[-samples:])) for j in range(3)]
    print(f"\n1. credential issue-use-revoke, {samples} samples each, interleaved (ms)")
    print(f"{'':>30} {'p50':>7} {'p99':>7}   ratio to the floor: p50, p99")
    labels = {
        "runtime": "runtime (broker+audit)",
        "per-profile": "runtime, per-profile AppRole",
        "runtime floor": "raw hvac floor",
        "per-profile floor": "raw, per-profile AppRole",
    }
    for kind, label in labels.items():
        print(
            f"{label:>30} {ms(p50[kind]):>7} {ms(p99[kind]):>7}"
            f"   {p50[kind] / f50:6.2f}x {p99[kind] / f99:6.2f}x"
        )
    print(f"floor split (medians): create {split[0]}, read {split[1]}, revoke {split[2]} ms")
    for kind in ("runtime", "per-profile"):
        verdict = "PASS" if p50[kind] / f50 <= TARGET_RATIO else "FAIL"
        print(
            f"{labels[kind]}: p50 ratio {p50[kind] / f50:.2f}x "
            f"(target <= {TARGET_RATIO}x): {verdict}"
        )
    steps = await breakdown(info, vault, shared, audit, raw)
    print(f"where the {ms(r50 - f50)} ms p50 gap goes: each step alone, median of 200")
    for name, (count, each) in steps.items():
        print(f"  {name:<28} {ms(each):>6} ms x{count} = {ms(each * count):>6} ms")
    cost = {name: count * each for name, (count, each) in steps.items()}
    extra = {
        "audit fsyncs": cost["audit record (write+fsync)"],
        "thread hops": cost["asyncio.to_thread hop"],
        "new client per read": cost["KV read, new hvac.Client"] - cost["KV read, reused client"],
        "token meta": cost["token create +meta (runtime)"] - cost["token create bare (floor)"],
        "models": cost["CredentialRequest + Lease"],
    }
    parts = ", ".join(f"{k} {ms(v)}" for k, v in extra.items())
    print(f"accounted for: {ms(sum(extra.values()))} of {ms(r50 - f50)} ms ({parts})")


async def breakdown(
    info: StackInfo, vault: AppRoleClient, profile: Profile, audit: AuditLog, raw: RawFloor
) -> dict[str, tuple[int, float]]:
    """Where the runtime's extra time goes: each step it takes that the raw
    floor does not (or takes differently), measured alone, interleaved, median
    of 200, with how often one call takes it."""
    spec = profile.secrets[SECRET]
    event = AuditEvent(kind="credential.used", mission_id="bench-b", tool=TOOL, secret=SECRET)
    auth = vault.call(
        "bench",
        lambda c: c.auth.token.create(role_name=raw.role, policies=[raw.policy], ttl="600s"),
    )["auth"]
    token = auth["client_token"]
    reader = hvac.Client(url=info.vault_addr, token=token, timeout=5)

    def make_request() -> CredentialRequest:
        return CredentialRequest(
            mission_id="bench-b",
            profile=profile.name,
            tool=TOOL,
            call_id="call-b",
            secret=SECRET,
            spec=spec,
            ttl=TTL,
        )

    def request_and_lease() -> None:
        make_request()
        Lease(
            backend=spec.backend,
            secret=SECRET,
            lease_id=auth["accessor"],
            expires_at=datetime.now(UTC) + TTL,
            renewable=True,
        )

    request = make_request()
    backend = VaultBackend(vault)
    minted: list[str] = []  # accessors, revoked untimed after each step

    steps: dict[str, tuple[int, Callable[[], object]]] = {
        "token create +meta (runtime)": (1, lambda: minted.append(backend._mint(request)[1])),
        "token create bare (floor)": (1, lambda: minted.append(raw.create()["accessor"])),
        "audit record (write+fsync)": (3, lambda: audit.record(event)),
        "hvac.Client() construction": (1, lambda: hvac.Client(url=info.vault_addr, token=token)),
        "KV read, new hvac.Client": (
            1,
            lambda: read_kv(hvac.Client(url=info.vault_addr, token=token, timeout=5), raw.path),
        ),
        "KV read, reused client": (1, lambda: read_kv(reader, raw.path)),
        "CredentialRequest + Lease": (1, request_and_lease),
    }
    times: dict[str, list[float]] = {name: [] for name in [*steps, "asyncio.to_thread hop"]}
    for _ in range(200):
        for name, (_, fn) in steps.items():
            times[name].append(timed(fn))
            while minted:
                raw.worker.auth.token.revoke_accessor(minted.pop())
        times["asyncio.to_thread hop"].append(
            await timed_async(lambda: asyncio.to_thread(lambda: None))
        )
    vault.call("bench", lambda c: c.auth.token.revoke_accessor(auth["accessor"]))
    # The broker hops to a thread for each audit record (3) and for issue and revoke.
    counts = {name: count for name, (count, _) in steps.items()} | {"asyncio.to_thread hop": 5}
    return {name: (counts[name], statistics.median(times[name])) for name in times}


# --- 2. revocation fan-out -----------------------------------------------------------


def victim_profile(name: str) -> Profile:
    return Profile.model_validate(
        {
            "name": name,
            "tools": {"test.stall": {}, "probe.vault": {"secrets": ["probe"]}},
            "secrets": {"probe": LEAK.model_dump()},
        }
    )


def stalling(profile: str) -> MissionSpec:
    call = {"name": "test.stall", "arguments": {"seconds": 300}}
    return MissionSpec.model_validate(
        {
            "name": "bench-stall",
            "profile": profile,
            "goal": "wait",
            "tools": ["test.stall"],
            "model": {"provider": "scripted", "script": {"turns": [{"tool_calls": [call]}]}},
        }
    )


class TimedAdmin(VaultAdmin):
    """Marks the moment the backend kill returns (it runs in a thread)."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.killed = threading.Event()
        self.killed_at = 0.0

    def kill_profile_credentials(self, profile: str) -> None:
        super().kill_profile_credentials(profile)
        self.killed_at = time.perf_counter()
        self.killed.set()


class TimedRevoker(Revoker):
    """Marks the moment the running missions are known (a visibility query)."""

    found_at = 0.0

    async def _running(self, profile: str) -> list[str]:
        found = await super()._running(profile)
        self.found_at = time.perf_counter()
        return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) each process has used so far (Linux /proc)."""
    out = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def alive(operator: hvac.Client, token: str) -> bool:
    """Asked as the operator: a call's token may not even look itself up."""
    try:
        operator.auth.token.lookup(token)
    except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
        return False
    return True


def until_refused(
    url: str, operator_token: str, tokens: list[str], killed: threading.Event
) -> float:
    """Once the kill returned: sweep the leaked tokens until every one is refused."""
    if not killed.wait(timeout=60):
        raise RuntimeError("the backend kill never returned")
    # A client of its own: the revocation uses the admin's meanwhile.
    operator, left = hvac.Client(url=url, token=operator_token, timeout=5), list(tokens)
    deadline = time.monotonic() + 30
    while left and time.monotonic() < deadline:
        left = [token for token in left if alive(operator, token)]
    if left:
        raise RuntimeError(f"{len(left)} leaked credentials still work after 30 s")
    return time.perf_counter()


async def fan_out(
    info: StackInfo, settings: Settings, admin: TimedAdmin, client: Client, count: int
) -> None:
    name = f"bench-victim-{uuid.uuid4().hex[:6]}"
    admin.apply_profile(victim_profile(name))
    inside: set[str] = set()
    cancelled_at: dict[str, float] = {}
    all_in = asyncio.Event()
    tools = dict(load_tool_modules(settings.tool_modules))
    stall = tools["test.stall"]

    async def counted(ctx: ToolContext, args: Any) -> Any:
        inside.add(ctx.mission_id)
        if len(inside) == count:
            all_in.set()
        try:
            return await stall.fn(ctx, args)
        finally:
            cancelled_at[ctx.mission_id] = time.perf_counter()

    tools["test.stall"] = dataclasses.replace(stall, fn=counted)
    worker = build_worker(client, settings, tools=tools)
    limit = worker.config().get("max_concurrent_activities") or 100
    if limit < count:
        raise RuntimeError(f"the worker runs at most {limit} activities, not {count}")
    async with worker:
        spec = stalling(name)
        handles = await asyncio.gather(*(submit(client, settings, spec) for _ in range(count)))
        async with asyncio.timeout(120):
            await all_in.wait()
        backend = VaultBackend(AppRoleClient(info.vault_addr, *settings.worker_approle()))
        leaked = [
            (
                await backend.issue(
                    CredentialRequest(
                        mission_id=h.id,
                        profile=name,
                        tool="probe.vault",
                        call_id="leaked",
                        secret="probe",
                        spec=LEAK,
                        ttl=timedelta(minutes=10),
                    )
                )
            ).value.reveal()
            for h in handles
        ]
        if not all(alive(admin.client, token) for token in leaked):
            raise RuntimeError("a leaked credential was dead before the revocation")

        async def ended(
            handle: WorkflowHandle[object, MissionResult],
        ) -> tuple[float, MissionResult]:
            result = await handle.result()
            return time.perf_counter(), result

        revoker = TimedRevoker(admin, client, AuditLog(info.data_dir / "bench-revoke.log"))
        waits = [asyncio.create_task(ended(h)) for h in handles]
        pids = {"bench+worker": os.getpid()} | {
            k: v for k, v in info.pids.items() if k in ("temporal", "openbao")
        }
        # The cost of 50 stalled missions alone (heartbeats), for comparison.
        idle_before = cpu_seconds(pids)
        await asyncio.sleep(2)
        cpu_before = cpu_seconds(pids)
        idle = {k: (v - idle_before[k]) / 2 for k, v in cpu_before.items()}
        started = time.perf_counter()
        refused = asyncio.create_task(
            asyncio.to_thread(
                until_refused, info.vault_addr, str(admin.client.token), leaked, admin.killed
            )
        )
        async with asyncio.timeout(60):
            report = await revoker.revoke_profile(name, "bench: key leaked", "bench")
            returned = time.perf_counter()
            results = await asyncio.gather(*waits)
            refused_at = await refused
        cpu = {k: v - cpu_before[k] for k, v in cpu_seconds(pids).items()}

    bad = [r for _, r in results if r.status != MissionStatus.ABORTED]
    if bad or sorted(report.missions_aborted) != sorted(h.id for h in handles):
        raise RuntimeError(
            f"{len(bad)} missions not aborted; report names {report.missions_aborted}"
        )
    ends = sorted(at - started for at, _ in results)
    stops = sorted(cancelled_at[h.id] - started for h in handles)
    total = max(refused_at, started + ends[-1]) - started

    def spread(xs: list[float]) -> str:
        return f"first {ms(xs[0])}, median {ms(statistics.median(xs))}, last {ms(xs[-1])}"

    print(f"\n2. revocation fan-out: {count} missions stalled in test.stall, {count} leaked tokens")
    print(f"  record + backend kill returned        {ms(admin.killed_at - started):>8} ms")
    print(f"  every leaked token seen refused       {ms(refused_at - started):>8} ms")
    print(f"  running missions found (visibility)   {ms(revoker.found_at - started):>8} ms")
    print(f"  tool calls saw the cancellation       {spread(stops)} ms")
    print(f"  missions ended aborted                {spread(ends)} ms")
    print(f"  revoke_profile returned               {ms(returned - started):>8} ms")
    used = ", ".join(f"{k} {v:.2f} s ({idle[k]:.2f} s/s idle)" for k, v in cpu.items())
    print(f"  CPU used, {os.cpu_count()} CPUs (stalled before): {used}")
    verdict = "PASS" if total < TARGET_FANOUT else "FAIL"
    print(f"total {total:.2f} s (target < {TARGET_FANOUT:.0f} s): {verdict}")


# --- the run -------------------------------------------------------------------------


async def run_all(info: StackInfo, samples: int, warmup: int, missions: int) -> None:
    settings = use_stack(info, tool_modules=[*DEFAULT_TOOL_MODULES, "tests.slow_tools"])
    admin = TimedAdmin(info.vault_addr, (info.data_dir / "vault-root-token").read_text().strip())
    admin.apply_profile(load_profile(TESTER))
    await issue_use_revoke(info, settings, admin, samples, warmup)
    client = await connect(settings)
    await fan_out(info, settings, admin, client, missions)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--missions", type=int, default=50)
    args = parser.parse_args(argv)
    if args.samples < 2 or args.missions < 1 or args.warmup < 0:
        parser.error("--samples >= 2, --missions >= 1, --warmup >= 0")
    started = time.perf_counter()
    with bench_stack() as info:
        asyncio.run(run_all(info, args.samples, args.warmup, args.missions))
    print(f"total run time: {time.perf_counter() - started:.1f} s (including stack start/stop)")


if __name__ == "__main__":
    main()
