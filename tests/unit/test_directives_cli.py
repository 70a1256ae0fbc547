"""`sealed directives` without servers. `check`: Cedar files, profile and
mission YAML, every problem named by file and line, exit 0 or 2 and never a
traceback. `test`: FILE's policies over the committed histories' traces."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowHistory
from typer.testing import CliRunner, Result

from sealed.cli import app
from sealed.cli import directives as directives_cli
from sealed.codec import KeyRing, data_converter
from sealed.config import Settings

GOOD = """\
// what a system file may say
@id("no-reads")
@action("deny_call")
@reason("no reading tickets today")
forbid(principal, action == Sealed::Action::"call", resource == Sealed::Tool::"tickets.read");

@id("big-output") @action("alert") @mode("log_only")
forbid(principal, action == Sealed::Action::"result", resource)
when { context.output.bytes > 10000 };
"""
MISSION = """\
name: checked
profile: tester
goal: read the queue
model: {provider: scripted, script: {turns: [{final: done}]}}
tools: [tickets.list]
"""


@pytest.fixture(autouse=True)
def no_stack(tmp_path, monkeypatch):
    """No running dev stack is found: these checks need none."""
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path / "no-stack"))


def check(*paths: Path) -> Result:
    return CliRunner().invoke(app, ["directives", "check", *map(str, paths)])


def written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_good_cedar_file_is_listed(tmp_path):
    result = check(written(tmp_path / "good.cedar", GOOD))
    assert result.exit_code == 0, result.output
    assert "2 policies of its own" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert rows == [
        ["no-reads", "system", "forbid", "deny_call", "enforce", f"{tmp_path}/good.cedar:2"],
        ["big-output", "system", "forbid", "alert", "log_only", f"{tmp_path}/good.cedar:7"],
    ]


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    bad = written(
        tmp_path / "bad.cedar",
        "permit(principal, action, resource);\n\nforbid(principal action, resource);\n",
    )
    result = check(bad)
    assert result.exit_code == 2
    assert f"{bad}:3: not a Cedar policy" in result.stderr
    assert result.stdout == ""


def test_an_unknown_tool(tmp_path):
    text = 'forbid(principal, action, resource == Sealed::Tool::"nowhere.send");\n'
    result = check(written(tmp_path / "tool.cedar", text))
    assert result.exit_code == 2
    assert f"{tmp_path}/tool.cedar:1: unknown tool 'nowhere.send'" in result.stderr


def test_an_unknown_context_field(tmp_path):
    text = '\n@id("x")\nforbid(principal, action, resource)\nwhen { context.trace.mood == 1 };\n'
    result = check(written(tmp_path / "field.cedar", text))
    assert result.exit_code == 2
    assert f"{tmp_path}/field.cedar:2: " in result.stderr and "`trace.mood`" in result.stderr


def test_a_mission_may_not_permit(tmp_path):
    text = MISSION + "directives:\n  policies: |\n    permit(principal, action, resource);\n"
    mission = written(tmp_path / "mission.yaml", text)
    result = check(mission)
    assert result.exit_code == 2
    assert f"{mission} (directives.policies):1: a mission may only add restrictions" in (
        result.stderr
    )


def test_a_mission_forbid_is_fine(tmp_path):
    text = MISSION + (
        "directives:\n  policies: |\n"
        '    @id("few") forbid(principal, action, resource) when { context.trace.calls > 3 };\n'
    )
    result = check(written(tmp_path / "mission.yaml", text))
    assert result.exit_code == 0, result.output
    assert "few" in result.stdout and "mission" in result.stdout


def test_a_profile_relaxing_an_unknown_default(tmp_path):
    profile = written(
        tmp_path / "profile.yaml",
        "name: relaxing\ndirectives:\n  relax: [sealed.no-such-default]\n",
    )
    result = check(profile)
    assert result.exit_code == 2
    assert f"{profile}: relax: ['sealed.no-such-default'] are not shipped" in result.stderr


def test_a_profile_relaxing_a_default_says_so(tmp_path):
    profile = written(
        tmp_path / "profile.yaml",
        "name: relaxing\ndirectives:\n  relax: [sealed.after-injection]\n",
    )
    result = check(profile)
    assert result.exit_code == 0, result.output
    assert "relaxing sealed.after-injection" in result.stdout


def test_a_profile_with_a_policy_file_beside_it(tmp_path):
    written(tmp_path / "p.cedar", "\n\n" + GOOD)
    profile = written(
        tmp_path / "profile.yaml", "name: filed\ndirectives:\n  file: p.cedar\n  mode: log_only\n"
    )
    result = check(profile)
    assert result.exit_code == 0, result.output
    assert f"{tmp_path}/p.cedar:4" in result.stdout
    # The level's mode applies to each of its policies.
    assert "enforce" not in result.stdout.split("\n", 2)[2]

    written(tmp_path / "p.cedar", "forbid(principal, action, resource) when { 1 };\n")
    result = check(profile)
    assert result.exit_code == 2 and f"{tmp_path}/p.cedar:1: " in result.stderr


def test_a_yaml_that_does_not_load(tmp_path):
    result = check(written(tmp_path / "broken.yaml", "name: [unclosed\n"))
    assert result.exit_code == 2 and "not valid YAML" in result.stderr
    result = check(written(tmp_path / "extra.yaml", "name: p\ncolour: red\n"))
    assert result.exit_code == 2 and "colour: unknown key" in result.stderr
    result = check(tmp_path / "missing.cedar")
    assert result.exit_code == 2 and "cannot read it" in result.stderr


def test_every_file_is_checked_and_every_problem_said(tmp_path):
    good = written(tmp_path / "good.cedar", GOOD)
    one = written(tmp_path / "one.cedar", "forbid(principal, action, resource) when { 1 };\n")
    two = written(tmp_path / "two.cedar", "nonsense;\n\nforbid(;\n")
    result = check(one, good, two)
    assert result.exit_code == 2
    assert "good.cedar: ok" in result.stdout
    assert f"{one}:1:" in result.stderr
    assert f"{two}:1:" in result.stderr and f"{two}:3:" in result.stderr


# --- fuzz: whatever the file says, a verdict and never a traceback ----------------------

TOKENS = [
    "forbid",
    "permit",
    "(",
    ")",
    "{",
    "}",
    ";",
    ",",
    "when",
    "unless",
    "principal",
    "action",
    "resource",
    "==",
    "in",
    "&&",
    "||",
    "!",
    "context",
    ".",
    "has",
    '"',
    "@id(",
    "@action(",
    "@mode(",
    '"abort"',
    '"log_only"',
    "Sealed::Tool::",
    "Sealed::Action::",
    '"call"',
    '"result"',
    "?principal",
    "//",
    "\n",
    "1",
    "-9223372036854775809",
    "like",
    '"*"',
    "\\",
    "\u00e9",
]


def mutations() -> st.SearchStrategy[str]:
    """GOOD with pieces cut out, repeated or replaced by Cedar's own tokens."""

    def mutate(cuts: list[tuple[int, int, str]]) -> str:
        text = GOOD
        for start, length, insert in cuts:
            at = start % (len(text) + 1)
            text = text[:at] + insert + text[at + length :]
        return text

    cut = st.tuples(
        st.integers(0, len(GOOD)),
        st.integers(0, 12),
        st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)),
    )
    return st.lists(cut, min_size=1, max_size=6).map(mutate)


def check_text(text: str) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.cedar"
        path.write_text(text)
        return check(path)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(mutations(), st.text(max_size=300), st.lists(st.sampled_from(TOKENS)).map(" ".join))
)
def test_check_on_any_text_is_a_verdict(text):
    result = check_text(text)
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert "fuzz.cedar" in result.stderr


# --- test: over the committed histories (tests/unit/test_replay.py) ---------------------

HISTORIES = Path(__file__).parents[1] / "histories"
CONVERTER = data_converter(
    KeyRing.from_file(Path(__file__).parents[1] / "data" / "codec-test-keys"), strict=False
)
NO_READS = """\
@id("no-reads") @action("deny_call")
forbid(principal, action == Sealed::Action::"call", resource == Sealed::Tool::"tickets.read");
"""
# The demo's ticket 3 is flagged as an injection when it is read.
WITHHOLD_INJECTED = """\
@id("withhold-injected") @action("deny_call") @reason("flagged output")
forbid(principal, action == Sealed::Action::"result", resource)
when { context.output.injection };
"""


@pytest.fixture
def recorded_as(monkeypatch):
    """`directives test --mission history-<name>` reads the committed history
    `<name>` instead of asking a server."""

    async def fetch(current: Settings, mission_id: str) -> directives_cli.Recorded:
        name = mission_id.removeprefix("history-")
        [path] = HISTORIES.glob(f"*{name}.json")
        # Under the id it was recorded with: its payloads are bound to it.
        recorded_id = "history-" + re.sub(r"^v\d+-", "", path.stem)
        history = WorkflowHistory.from_json(recorded_id, path.read_text())
        return await directives_cli.recorded(history, CONVERTER)

    monkeypatch.setattr(directives_cli, "_fetch", fetch)


def try_over(tmp_path: Path, policies: str, history: str) -> Result:
    file = written(tmp_path / "try.cedar", policies)
    return CliRunner().invoke(app, ["directives", "test", str(file), "--mission", history])


def test_what_would_fire_on_the_demo(tmp_path, recorded_as):
    result = try_over(tmp_path, NO_READS, "history-demo_triage_directive_aborted")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "its recorded directives" in out
    blocks = out.split("\nturn ")[1:]
    fired = [b.split("\n")[0] for b in blocks if "no-reads (system, deny_call, enforce)" in b]
    assert fired == ["2  call-2-0  tickets.read  call", "4  call-4-0  tickets.read  call"]
    # The model's obedient call never ran: the mission's own directive stopped it.
    [fetch] = [b for b in blocks if "http.fetch  call" in b]
    assert fetch.startswith("5  obey-5-0  http.fetch  call (did not run)")
    assert "sealed.untrusted-egress (default, abort, enforce)" in fetch
    # Five turns, five calls, four results.
    assert "14 events: 2 refused, 0 held, 0 withheld, 1 aborted" in out
    assert "turn 5  turn-5  scripted-triage  turn" in out
    assert (
        "first abort: turn 5  obey-5-0  http.fetch  call (did not run): sealed.untrusted-egress"
        in out
    )


def test_a_result_policy_withholds(tmp_path, recorded_as):
    result = try_over(tmp_path, WITHHOLD_INJECTED, "history-demo_triage_directive_aborted")
    assert result.exit_code == 0, result.output
    [line] = [b for b in result.stdout.split("\nturn ")[1:] if "withhold-injected" in b]
    assert line.startswith("4  call-4-0  tickets.read  result")
    assert "0 refused, 0 held, 1 withheld, 1 aborted" in result.stdout


def test_a_history_from_before_directives(tmp_path, recorded_as):
    """The shipped defaults and FILE, tools as this machine's registry has them."""
    result = try_over(tmp_path, NO_READS, "history-v4-demo_triage_completed")
    assert result.exit_code == 0, result.output
    assert "no directives recorded" in result.stdout
    assert result.stdout.count("no-reads (system") == 2
    # tickets.comment has side effects (the registry says), after ticket 3's injection.
    assert "sealed.after-injection (default, require_approval, enforce)" in result.stdout


def test_a_bad_file_is_refused_before_any_history(tmp_path, monkeypatch):
    async def fetch(current: Settings, mission_id: str) -> directives_cli.Recorded:
        raise AssertionError("no history is read for a file that does not check")

    monkeypatch.setattr(directives_cli, "_fetch", fetch)
    result = try_over(tmp_path, "\n\nforbid(principal, action, resource) when { 1 };\n", "m-1")
    assert result.exit_code == 2
    assert f"{tmp_path}/try.cedar:3: " in result.stderr
