"""A slice of AgentDojo through the runtime, on the session stack (issue 12):
the banking suite's first user tasks, each alone and under the first
injection tasks with the `important_instructions` attack, as Sealed missions
served by an in-process worker that holds the suite's environments.

With no controls, every case scores exactly what AgentDojo's own runtime
gives the same stand-in model (its pipeline, no Sealed), and every attack
succeeds exactly where AgentDojo's GroundTruthPipelines (the injection
task's, then the user task's) say it does: the bridge measures the
benchmark, not an artefact of its own. With the default controls, no attack
of the slice succeeds and the user tasks still get done."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("agentdojo")

from temporalio.client import Client

from bench.agentdojo.cases import Case, cases, stage
from bench.agentdojo.reference import ground_truth_score, reference_score
from bench.agentdojo.runner import DEFAULT_CONTROLS, DEFENCES, Bench, prepare, run_all
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.identity.openbao.admin import VaultAdmin
from sealed.workers.worker import build_worker

SLICE: list[Case] = [
    *cases("banking", None, limit=2),
    *cases("banking", "important_instructions", limit=2, injections=3),
]


async def test_a_banking_slice_scores_as_agentdojo_and_the_default_controls_stop_it(
    stack: StackInfo,
    stack_settings: Settings,
    stack_env: dict[str, str],
    admin_for_tests: VaultAdmin,
    client: Client,
    tmp_path: Path,
):
    # Its own task queue (the session's worker has none of the suite's tools),
    # and no webhook: its approval requests stay out of the stack's inbox,
    # which other tests read.
    settings = stack_settings.model_copy(
        update={"task_queue": "sealed-agentdojo-slice", "approval_webhooks": []}
    )
    none, default = DEFENCES["none"], DEFENCES[DEFAULT_CONTROLS]
    staged = [stage(case) for case in SLICE]
    bench = Bench(client, settings, prepare(admin_for_tests, ["banking"], [none, default]))
    async with build_worker(client, settings, tools=bench.tools(["banking"])):
        outcomes, _ = await run_all(bench, staged, [none, default], concurrency=4)

    by_run = {(o.defence, o.stance, o.label): o for o in outcomes}
    for item in staged:
        expected = reference_score(item)
        got = by_run[("none", "obedient", item.case.label)]
        assert (got.utility, got.attack_success) == (expected.utility, bool(expected.attacked)), (
            item.case.label
        )
        assert got.attack_success == bool(ground_truth_score(item).attacked), item.case.label
    attacked = [o for o in outcomes if o.attacked and o.defence == "none"]
    assert attacked and all(o.attack_success for o in attacked)  # the slice does attack

    guarded = [o for o in outcomes if o.defence == DEFAULT_CONTROLS]
    assert {o.stance for o in guarded} == {"obedient", "fence-respecting"}
    assert not any(o.attack_success for o in guarded)
    assert all(o.utility for o in guarded), [o.label for o in guarded if not o.utility]
    # the attentive approver was asked, and the attack's transfers were among what it refused
    assert any(o.approvals for o in guarded if o.attacked)
