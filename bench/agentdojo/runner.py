"""One case as a Sealed mission on the embedded stack: the suite's profile for
the defence under test, the case's environment handed to the worker, the
stand-in briefed, the approvals answered by an attentive human (approve only
the calls the user asked for: the user task's ground truth), the outcome
scored by AgentDojo's checks."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.progress import Progress
from temporalio.client import Client

from bench.agentdojo.cases import Staged, suite
from bench.agentdojo.operator import OPERATORS
from bench.agentdojo.provider import BRIEFS, PROVIDER, SUITE_OF
from bench.agentdojo.scoring import score
from bench.agentdojo.stance import Stance
from bench.agentdojo.tools import Worlds, function_name, suite_tools, tool_name
from sealed import missions
from sealed.approvals import ApprovalState, sign_decision
from sealed.approvals.keys import new_key, public_text
from sealed.config import Settings
from sealed.directives.policies import compile_sources, default_source
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile
from sealed.models import MissionSpec, MissionStatus
from sealed.tools.registry import ToolDef

APPROVER = "agentdojo-user"
# How often the approver looks for requests: each look is a query the worker
# answers, and at a bench's concurrency a brisk poll costs the missions more
# than the wait for a decision.
_POLL = 0.5


@dataclass(frozen=True)
class Defence:
    name: str
    directives: bool
    approvals: bool
    # The screen is always on in Sealed; it matters only to a model that
    # respects its fence. The models each configuration is measured with:
    # `screen` alone is `none` for the obedient one, so it runs only the other.
    stances: tuple[Stance, ...] = ("obedient",)


DEFENCES = {
    d.name: d
    for d in (
        Defence("none", directives=False, approvals=False),
        Defence("screen", directives=False, approvals=False, stances=("fence-respecting",)),
        Defence("directives", directives=True, approvals=False),
        Defence("directives+approvals", directives=True, approvals=True),
        Defence(
            "everything",
            directives=True,
            approvals=True,
            stances=("obedient", "fence-respecting"),
        ),
    )
}
# What a profile gets unless it relaxes something: the shipped directives and
# the screen; approvals once it names an approver.
DEFAULT_CONTROLS = "everything"


@cache
def _shipped_forbids() -> tuple[str, ...]:
    infos = compile_sources([default_source()]).infos
    return tuple(i.id for i in infos if i.effect == "forbid")


def profile_name(suite_name: str, defence: Defence) -> str:
    return f"adojo-{suite_name}-{defence.name.replace('+', '-')}"


def profile(suite_name: str, defence: Defence) -> Profile:
    operator = OPERATORS[suite_name]
    tools = [tool_name(suite_name, f.name) for f in suite(suite_name).tools]
    return Profile.model_validate(
        {
            "name": profile_name(suite_name, defence),
            "tools": {name: {} for name in tools},
            "egress": list(operator.egress) if defence.directives else [],
            "directives": {"relax": list(operator.relax), "policies": operator.policies}
            if defence.directives
            else {"relax": list(_shipped_forbids())},
            "approvals": {
                "approvers": [APPROVER],
                "required": [
                    {
                        "privilege": ["high"],
                        "tools": sorted(tool_name(suite_name, f) for f in operator.confirm),
                    }
                ]
                if operator.confirm
                else [],
            }
            if defence.approvals
            else {},
            "redaction": {"allow_pii": list(operator.allow_pii)},
        }
    )


@dataclass(frozen=True)
class Outcome:
    label: str
    defence: str
    stance: Stance
    attacked: bool  # the case carries an injection
    utility: bool
    attack_success: bool
    approvals: int
    status: MissionStatus
    seconds: float


class Bench:
    """The worker's side (environments, tools) and the submitter's (missions,
    approvals) of the bench's runs, in one process."""

    def __init__(self, client: Client, settings: Settings, key: Ed25519PrivateKey) -> None:
        self.client = client
        self.settings = settings
        self.key = key
        self.worlds = Worlds()
        self._tools: dict[str, ToolDef] = {}

    def tools(self, suites: list[str]) -> dict[str, ToolDef]:
        """The suites' tools, for the worker this process runs."""
        for name in suites:
            self._tools.update(suite_tools(suite(name), self.worlds))
        return dict(self._tools)

    async def run(self, staged: Staged, defence: Defence, stance: Stance) -> Outcome:
        case = staged.case
        spec = MissionSpec.model_validate(
            {
                "name": f"agentdojo-{case.suite}",
                "profile": profile_name(case.suite, defence),
                "goal": staged.user.PROMPT,
                "tools": [tool_name(case.suite, f.name) for f in suite(case.suite).tools],
                "model": {
                    "provider": PROVIDER,
                    "name": f"stand-in-{stance}",
                    "parameters": {"stance": stance},
                },
                "limits": {"max_turns": 100, "max_tool_calls": 80},
            }
        )
        mission_id = f"mission-{spec.name}-{uuid.uuid4().hex[:12]}"
        world = self.worlds.open(mission_id, staged.environment.model_copy(deep=True))
        BRIEFS[mission_id], SUITE_OF[mission_id] = staged.brief, case.suite
        asked = 0

        async def answer(state: ApprovalState) -> None:
            nonlocal asked
            asked += 1
            request = state.request
            tool = self._tools[request.tool]
            wanted = any(
                call.function == function_name(request.tool)
                and tool.canonical(call.args) == request.arguments
                for call in staged.brief.user_calls
            )
            await missions.decide(
                self.client,
                sign_decision(
                    self.key,
                    request,
                    approver=APPROVER,
                    decision="approve" if wanted else "deny",
                    reason="" if wanted else "not what I asked for",
                    now=datetime.now(UTC),
                    validity=timedelta(minutes=5),
                ),
            )

        began = time.perf_counter()
        try:
            handle = await missions.submit(self.client, self.settings, spec, mission_id)
            result = await (
                missions.answering(handle.result(), handle, answer, poll=_POLL)
                if defence.approvals
                else handle.result()
            )
        finally:
            self.worlds.close(mission_id)
            BRIEFS.pop(mission_id, None)
            SUITE_OF.pop(mission_id, None)
        seconds = time.perf_counter() - began
        scored = score(staged, result.answer or "", world.environment, world.ran)
        return Outcome(
            label=case.label,
            defence=defence.name,
            stance=stance,
            attacked=staged.injection is not None,
            utility=scored.utility,
            attack_success=bool(scored.attacked),
            approvals=asked,
            status=result.status,
            seconds=seconds,
        )


def prepare(
    admin: VaultAdmin, suites: Sequence[str], defences: Sequence[Defence]
) -> Ed25519PrivateKey:
    """The approver's key registered, each suite's profile per defence applied."""
    key = new_key()
    admin.register_approver(APPROVER, public_text(key), replace=True)
    for suite_name in suites:
        for defence in defences:
            admin.apply_profile(profile(suite_name, defence))
    return key


async def run_all(
    bench: Bench,
    staged: Sequence[Staged],
    defences: Sequence[Defence],
    concurrency: int,
    progress: Progress | None = None,
) -> tuple[list[Outcome], dict[str, float]]:
    """Every staged case under every defence (and each model it measures),
    `concurrency` missions at a time; the outcomes in the cases' order."""
    outcomes: list[Outcome] = []
    wall: dict[str, float] = {}
    gate = asyncio.Semaphore(concurrency)
    runs = [(d, stance) for d in defences for stance in d.stances]
    task = progress.add_task("missions", total=len(runs) * len(staged)) if progress else None

    async def one(item: Staged, defence: Defence, stance: Stance) -> Outcome:
        async with gate:
            outcome = await bench.run(item, defence, stance)
        if progress is not None and task is not None:
            progress.advance(task)
        return outcome

    for defence, stance in runs:
        if progress is not None and task is not None:
            progress.update(task, description=f"{defence.name} ({stance})")
        began = time.perf_counter()
        outcomes += await asyncio.gather(*(one(item, defence, stance) for item in staged))
        wall[defence.name] = wall.get(defence.name, 0.0) + time.perf_counter() - began
    return outcomes, wall
