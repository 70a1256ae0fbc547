"""`sealed directives check | show | test`: Sealed V policies checked where
they are written, shown as a profile's missions get them, and tried over a
recorded mission before anyone deploys them.

The checks here are also what `sealed profiles apply` and `sealed submit` run,
so that a policy is refused where a person submits it, never first at run time."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from sealed.cli._shared import ProfileArg, admin, check_mission_id, fail, settings
from sealed.client import codec_keyring, connect
from sealed.codec import data_converter
from sealed.config import Settings
from sealed.contract import MODEL_TURN, RUN_TOOL, WORKFLOW_NAME
from sealed.directives.engine import Engine, Firing, Verdict
from sealed.directives.policies import (
    Compiled,
    DirectiveError,
    DirectiveSet,
    PolicyInfo,
    PolicySource,
    ToolFacts,
    compile_sources,
    default_source,
    with_defaults,
)
from sealed.directives.schema import check, checked, tool_arguments
from sealed.directives.system import system_source
from sealed.directives.tracker import Tracker
from sealed.identity.profiles import Profile, load_profile
from sealed.models import (
    MissionInput,
    MissionSpec,
    ModelTurnOutput,
    ToolCall,
    ToolCallInput,
    ToolCallResult,
)
from sealed.spec_loader import SpecError, parse_mission, read_yaml
from sealed.terminal import printable
from sealed.tools import ToolDef, load_tool_modules

app = typer.Typer(
    no_args_is_help=True,
    help="Sealed V directives: Cedar policies over every tool call and result.",
)

# --- the checks (also run by `profiles apply` and `submit`) -------------------------


def registry(current: Settings) -> Mapping[str, ToolDef]:
    """This machine's tools: what policies are checked against."""
    return load_tool_modules(current.tool_modules)


def check_profile(profile: Profile, tools: Mapping[str, ToolDef]) -> Compiled:
    """DirectiveError unless the profile's directives compile with the shipped
    defaults and type-check against `tools`."""
    sources = with_defaults(profile.directives.source("profile"))
    return checked(sources, tools, profile.directives.relax)


def check_mission(spec: MissionSpec, profile: Profile, tools: Mapping[str, ToolDef]) -> Compiled:
    """DirectiveError unless the mission's directives, with its profile's and
    the shipped defaults, compile and type-check against `tools`. The worker's
    system file is not among them: it is the worker's, checked when it starts."""
    sources = with_defaults(profile.directives.source("profile"), spec.directives.source("mission"))
    return checked(sources, tools, profile.directives.relax)


def refuse(what: str, error: DirectiveError) -> typer.Exit:
    """Every problem on its own line (file:line: reason), exit code 2."""
    lines = "\n".join(f"  - {printable(problem)}" for problem in error.problems)
    return fail(f"{what}: invalid directives\n{lines}", code=2)


# --- check ------------------------------------------------------------------------


def _file_levels(path: Path) -> tuple[list[PolicySource], list[str]]:
    """The sources a file adds to the shipped defaults, and the defaults it
    relaxes: a .cedar file is the system level; a YAML mapping with `goal:` is
    a mission (forbids only), any other YAML a profile."""
    if path.suffix == ".cedar":
        return with_defaults(system_source(path)), []
    try:
        data = read_yaml(path)
    except SpecError as exc:  # not yet known to be a mission or a profile
        raise SpecError(path, exc.problems, "profile or mission") from exc
    if isinstance(data, dict) and "goal" in data:
        spec = parse_mission(data, path)
        return with_defaults(spec.directives.source("mission")), []
    profile = load_profile(path)
    relaxed = profile.directives.relax
    return with_defaults(profile.directives.source("profile")), relaxed


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _policy_rows(infos: Sequence[PolicyInfo], *, reasons: bool = False) -> list[list[str]]:
    head = ["id", "level", "effect", "action", "mode", "where"] + (["reason"] if reasons else [])
    rows = [head]
    for info in infos:
        row = [info.id, info.level, info.effect, info.action or "-", info.mode, info.where]
        rows.append([printable(cell) for cell in row + ([info.reason or "-"] if reasons else [])])
    return rows


def _located(problem: str, path: Path, sources: Sequence[PolicySource]) -> str:
    """A problem that names no policy's file (an unknown `relax`) names the file checked."""
    if any(problem.startswith(source.origin) for source in sources):
        return problem
    return f"{path}: {problem}"


def _check_one(path: Path, tools: Mapping[str, ToolDef]) -> list[str]:
    """The file's problems; when it has none, its policies are printed."""
    try:
        sources, relaxed = _file_levels(path)
    except SpecError as exc:
        return [str(exc)]
    except DirectiveError as exc:  # a Cedar file that cannot be read
        return exc.problems
    try:
        compiled = checked(sources, tools, relaxed)
    except DirectiveError as exc:
        return [_located(problem, path, sources) for problem in exc.problems]
    own = [info for info in compiled.infos if info.level != "default"]
    note = f", relaxing {', '.join(relaxed)}" if relaxed else ""
    typer.echo(printable(f"{path}: ok, {len(own)} policies of its own{note}"))
    if own:
        for line in _table(_policy_rows(own)):
            typer.echo(f"  {line}")
    return []


@app.command("check")
def check_command(
    files: Annotated[
        list[Path], typer.Argument(help="Cedar files (.cedar), profile or mission YAML")
    ],
) -> None:
    """Check policies with the shipped defaults against this machine's tools."""
    tools = registry(settings())
    problems = [problem for path in files for problem in _check_one(path, tools)]
    for problem in problems:
        typer.secho(printable(problem), fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(2)


# --- show -------------------------------------------------------------------------


@app.command("show")
def show(name: ProfileArg) -> None:
    """A registered profile's effective directives on this machine's configuration."""
    current = settings()
    profile = admin(current).profile(name)
    if profile is None:
        raise fail(f"profile '{name}' is not registered (`sealed profiles apply` it first)")
    relaxed = profile.directives.relax
    try:
        system = system_source(current.directives_file) if current.directives_file else None
        sources = with_defaults(system, profile.directives.source("profile"))
        compiled = compile_sources(sources, relaxed)
    except DirectiveError as exc:
        raise refuse(f"profile '{name}'", exc) from exc
    typer.echo(f"profile {name}: the directives its missions get here")
    typer.echo(f"  shipped defaults relaxed: {', '.join(relaxed) or 'none'}")
    where = system.origin if system else "none (SEALED_DIRECTIVES_FILE sets one)"
    typer.echo(f"  system file: {where}")
    typer.echo(f"  egress allowlist: {', '.join(profile.egress_hosts()) or 'none'}")
    for line in _table(_policy_rows(compiled.infos, reasons=True)):
        typer.echo(f"  {line}")
    try:
        check(compiled, tool_arguments(registry(current)))
    except DirectiveError as exc:
        raise refuse(f"profile '{name}' with this machine's tools", exc) from exc


# --- test -------------------------------------------------------------------------

M = TypeVar("M")
# What a history holds for the directives, in event order: a model turn's
# output, a tool call as it was scheduled (as it ran: an approver may have
# changed its arguments), a call's result; each with its event's time.
Step = tuple[datetime, ModelTurnOutput | ToolCallInput | ToolCallResult]


class NotAMission(Exception):
    """The workflow id names something else than a mission."""


@dataclass
class Recorded:
    mission: MissionInput
    started: datetime
    steps: list[Step] = field(default_factory=list)


def _when(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


async def _decode(converter: DataConverter, payloads: Sequence[Payload], kind: type[M]) -> M:
    [value] = await converter.decode(payloads, [kind])
    assert isinstance(value, kind)
    return value


async def recorded(history: WorkflowHistory, converter: DataConverter) -> Recorded:
    """The mission's input, its model turns and tool calls, decoded."""
    first = history.events[0]
    started = first.workflow_execution_started_event_attributes
    if started.workflow_type.name != WORKFLOW_NAME:
        raise NotAMission(f"{history.workflow_id} is a {started.workflow_type.name}, not a mission")
    mission = await _decode(converter, started.input.payloads, MissionInput)
    found = Recorded(mission, _when(first))
    kinds: dict[int, str] = {}
    for event in history.events:
        step: ModelTurnOutput | ToolCallInput | ToolCallResult
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            kinds[event.event_id] = attrs.activity_type.name
            if attrs.activity_type.name != RUN_TOOL:
                continue
            step = await _decode(converter, attrs.input.payloads, ToolCallInput)
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            kind = kinds.get(done.scheduled_event_id)
            if kind == MODEL_TURN:
                step = await _decode(converter, done.result.payloads, ModelTurnOutput)
            elif kind == RUN_TOOL:
                step = await _decode(converter, done.result.payloads, ToolCallResult)
            else:
                continue
        else:
            continue
        found.steps.append((_when(event), step))
    return found


async def _fetch(current: Settings, mission_id: str) -> Recorded:
    keyring = await asyncio.to_thread(codec_keyring, current)
    client = await connect(current)
    try:
        history = await client.get_workflow_handle(mission_id).fetch_history()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise fail(f"no mission '{mission_id}'") from exc
    # The workers' converter, reading what older workers wrote (before encryption) too.
    return await recorded(history, data_converter(keyring, strict=False))


@dataclass
class Evaluated:
    turn: int
    call: ToolCall
    verdict: Verdict
    ran: bool = True


def registry_facts(spec: MissionSpec, tools: Mapping[str, ToolDef]) -> dict[str, ToolFacts]:
    return {
        name: ToolFacts.of(tool) for name in spec.tools if (tool := tools.get(name)) is not None
    }


class Evaluation:
    """A mission's recorded trace fed to a Tracker as the workflow fed it, with
    an extra policy source added to every set the mission held."""

    def __init__(self, recorded: Recorded, extra: PolicySource, tools: Mapping[str, ToolDef]):
        self.spec = recorded.mission.spec
        self.tracker = Tracker(recorded.mission.mission_id, self.spec, recorded.started)
        self.extra = extra
        self.tools = tools
        self.had_directives = False
        self.events: list[Evaluated] = []
        self.now = recorded.started
        self._turn = 0
        self._pending: deque[ToolCall] = deque()
        # The call now running, with the context its result is evaluated in.
        self._running: tuple[ToolCall, dict[str, Any]] | None = None

    def run(self, steps: list[Step]) -> None:
        for when, step in steps:
            # A call is decided when the workflow last woke up (its turn, or the
            # call before it, came back); a result, when it came back.
            if isinstance(step, ModelTurnOutput):
                self.now = when
                self._turned(step)
            elif isinstance(step, ToolCallInput):
                self._scheduled(step)
            else:
                self.now = when
                self._result(step)
        self._refuse_pending()

    def _turned(self, output: ModelTurnOutput) -> None:
        self._refuse_pending()
        self.had_directives = self.had_directives or output.directives is not None
        directives = output.directives
        if directives is None and self.tracker.directives is None:
            # A history recorded before directives: the shipped defaults, and
            # what this machine's registry says of the mission's tools.
            directives = DirectiveSet(
                sources=[default_source()], tools=registry_facts(self.spec, self.tools)
            )
        if directives is not None:
            tried = directives.model_copy(update={"sources": [*directives.sources, self.extra]})
            self.tracker.adopt(directives, engine=Engine(tried))
        self._turn += 1
        model = self.spec.model.name
        verdict = self.tracker.turned(output, model, self.now)
        if verdict is not None:
            self.events.append(
                Evaluated(self._turn, ToolCall(id=f"turn-{self._turn}", name=model), verdict)
            )
        self._pending = deque(output.tool_calls)

    def _evaluate(self, call: ToolCall, ran: bool) -> dict[str, Any] | None:
        """The call's verdict where the workflow reaches it (a tool the mission
        does not list is refused before any directive sees it)."""
        decided = self.tracker.before(call, self.now) if call.name in self.spec.tools else None
        if not ran:
            self.tracker.trace.refused()
        if decided is None:
            return None
        verdict, context = decided
        self.events.append(Evaluated(self._turn, call, verdict, ran))
        return context

    def _scheduled(self, request: ToolCallInput) -> None:
        """A call that ran; those of its turn asked before it did not."""
        while self._pending and self._pending[0].id != request.call.id:
            self._evaluate(self._pending.popleft(), ran=False)
        if not self._pending:
            return
        self._pending.popleft()
        context = self._evaluate(request.call, ran=True)
        self._running = (request.call, context) if context is not None else None

    def _result(self, result: ToolCallResult) -> None:
        if self._running is None or self._running[0].id != result.call_id:
            return
        call, context = self._running
        self._running = None
        verdict = self.tracker.after(call, result, context, self.now)
        if verdict is not None:
            self.events.append(Evaluated(self._turn, call, verdict))

    def _refuse_pending(self) -> None:
        while self._pending:
            self._evaluate(self._pending.popleft(), ran=False)


def _event_head(event: Evaluated) -> str:
    verdict = event.verdict
    ran = "" if event.ran else " (did not run)"
    return f"turn {event.turn}  {event.call.id}  {verdict.tool}  {verdict.event}{ran}"


def _firing_line(firing: Firing) -> str:
    where = f" at {firing.where}" if firing.where else ""
    what = f"{firing.level}, {firing.action}, {firing.mode}"
    return f"    {firing.policy} ({what}): {firing.reason}{where}"


def outcome(verdict: Verdict) -> str | None:
    """What the workflow would do on the strongest action that fired."""
    if verdict.action is None:
        return None
    if verdict.action == "abort":
        return "aborted"
    if verdict.event == "result":
        return "withheld"
    return "held" if verdict.action == "require_approval" else "refused"


def _report(events: list[Evaluated]) -> None:
    counts = dict.fromkeys(("refused", "held", "withheld", "aborted"), 0)
    first_abort: Evaluated | None = None
    for event in events:
        fired = [*event.verdict.fired, *event.verdict.watched]
        typer.echo(printable(_event_head(event) + ("" if fired else ": nothing fires")))
        for firing in fired:
            typer.echo(printable(_firing_line(firing)))
        done = outcome(event.verdict)
        if done is not None:
            counts[done] += 1
        if done == "aborted" and first_abort is None:
            first_abort = event
    typer.echo(f"{len(events)} events: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if first_abort is not None and first_abort.verdict.decisive is not None:
        decisive = first_abort.verdict.decisive
        typer.echo(
            printable(
                f"first abort: {_event_head(first_abort)}: {decisive.policy}: {decisive.reason}"
            )
        )


@app.command("test")
def test_command(
    file: Annotated[Path, typer.Argument(help="Cedar policies (.cedar) to try")],
    mission: Annotated[
        str, typer.Option("--mission", callback=check_mission_id, help="a recorded mission's id")
    ],
) -> None:
    """What FILE's policies, added to a mission's own, would fire on its recorded trace."""
    current = settings()
    tools = registry(current)
    try:
        extra = system_source(file)
        checked(with_defaults(extra), tools)
    except DirectiveError as exc:
        raise refuse(str(file), exc) from exc
    try:
        history = asyncio.run(_fetch(current, mission))
    except NotAMission as exc:
        raise fail(str(exc)) from exc
    evaluation = Evaluation(history, extra, tools)
    try:
        evaluation.run(history.steps)
    except DirectiveError as exc:
        raise refuse(f"{file} with mission {mission}'s directives", exc) from exc
    profile = evaluation.spec.profile
    if evaluation.had_directives:
        typer.echo(f"mission {mission} (profile {profile}): its recorded directives + {file}")
    else:
        typer.echo(
            f"mission {mission} (profile {profile}): no directives recorded; the shipped "
            f"defaults + {file}, tools as this machine's registry has them, no egress allowlist"
        )
    _report(evaluation.events)
