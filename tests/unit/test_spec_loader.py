"""Mission files: the demo loads, and every broken one is refused with a message
that names the file, the field and what was expected."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from sealed.directives.policies import DirectivesSpec
from sealed.models import MissionSpec
from sealed.spec_loader import SpecError, load_mission

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "missions" / "triage.yaml"
BAD = ROOT / "tests" / "data" / "bad_missions"


def test_demo_mission_loads_with_its_script_inlined() -> None:
    spec = load_mission(DEMO)
    assert isinstance(spec, MissionSpec)
    assert spec.name == "ticket-triage"
    assert spec.profile == "support-agent"
    assert spec.tools == ["tickets.list", "tickets.read", "tickets.comment", "http.fetch"]
    assert spec.limits.max_turns == 10
    assert spec.limits.max_tool_calls == 12
    assert spec.limits.deadline == timedelta(seconds=600)
    assert spec.limits.deadline.total_seconds() == 600
    script = spec.model.script
    assert script is not None
    assert script.gullible is True
    assert len(script.turns) == 5
    assert [[c.name for c in t.tool_calls] for t in script.turns] == [
        ["tickets.list"],
        ["tickets.read"],
        ["tickets.comment"],
        ["tickets.read"],
        [],
    ]
    assert script.turns[3].tool_calls[0].arguments == {"ticket_id": 3}
    assert script.turns[-1].final is not None
    # No directives of its own: the shipped defaults are what stop ticket 3's call.
    assert spec.directives == DirectivesSpec()
    # Self-contained: the spec survives a JSON round trip without the script file.
    assert MissionSpec.model_validate_json(spec.model_dump_json()) == spec


def test_load_mission_accepts_a_str_path() -> None:
    assert load_mission(str(DEMO)) == load_mission(DEMO)


# file, dotted field path (None: the whole file), fragments of what was expected
BAD_CASES: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("unknown_top_level_key.yaml", "tool", ("unknown key",)),
    ("unknown_nested_key.yaml", "limits.max_turn", ("unknown key",)),
    ("max_turns_not_an_int.yaml", "limits.max_turns", ("valid integer", "'many'")),
    ("max_turns_zero.yaml", "limits.max_turns", ("greater than or equal to 1", "got 0")),
    ("missing_goal.yaml", "goal", ("Field required",)),
    ("missing_model.yaml", "model", ("Field required",)),
    ("scripted_without_script.yaml", "model", ("scripted provider needs a 'script'",)),
    (
        "turn_with_tool_calls_and_final.yaml",
        "model.script.turns.1",
        ("either 'tool_calls' or 'final'",),
    ),
    (
        "script_file_missing.yaml",
        "model.script",
        ("no_such.script.yaml", "cannot read file", "No such file"),
    ),
    ("yaml_syntax_error.yaml", None, ("not valid YAML", "line 10", "expected ','")),
    ("top_level_list.yaml", None, ("expected a mapping at the top level", "got list")),
    ("bad_duration.yaml", "limits.deadline", ("valid timedelta", "'soon'")),
    ("bad_tool_name.yaml", "tools.0", ("should match pattern", "'Tickets List!'")),
    ("duplicated_tool.yaml", "tools", ("listed more than once",)),
    ("directive_unknown_mode.yaml", "directives.mode", ("'enforce' or 'log_only'", "'sometimes'")),
    # `on:` read as a key, not as YAML 1.1's True: the message names it.
    ("directive_unknown_key.yaml", "directives.on", ("unknown key",)),
]


def test_every_bad_mission_file_has_a_case() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(c[0] for c in BAD_CASES)


@pytest.mark.parametrize(
    ("filename", "field", "expected"),
    BAD_CASES,
    ids=[c[0].removesuffix(".yaml") for c in BAD_CASES],
)
def test_bad_mission_is_refused_with_a_precise_message(
    filename: str, field: str | None, expected: tuple[str, ...]
) -> None:
    path = BAD / filename
    with pytest.raises(SpecError) as info:
        load_mission(path)
    error = info.value
    message = str(error)

    # The file: the mission itself, even when the fault is in a file it names.
    assert error.path == path
    assert message.startswith(f"{path}: invalid mission spec\n")

    # Exactly one problem per case, on one line, naming the field and what was expected.
    assert len(error.problems) == 1, error.problems
    (problem,) = error.problems
    assert "\n" not in problem
    if field is not None:
        assert problem.startswith(f"{field}: "), problem
    for fragment in expected:
        assert fragment in problem, (fragment, problem)
    assert f"  - {problem}" in message.splitlines()


def test_message_has_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: many-problems\n"
        "profile: support-agent\n"
        "model: {provider: other}\n"
        "limits: {max_turns: 0, deadline: soon}\n"
        "tool: [tickets.list]\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_mission(path)
    error = info.value
    lines = str(error).splitlines()
    assert lines[0] == f"{path}: invalid mission spec"
    assert lines[1:] == [f"  - {p}" for p in error.problems]
    fields = sorted(p.split(":", 1)[0] for p in error.problems)
    assert fields == ["goal", "limits.deadline", "limits.max_turns", "tool"]


def test_got_part_is_truncated_for_large_inputs(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    long_say = "x" * 500
    path.write_text(
        "name: big\n"
        "profile: support-agent\n"
        "goal: g\n"
        "model:\n"
        "  script:\n"
        "    turns:\n"
        f"      - say: {long_say}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_mission(path)
    (problem,) = info.value.problems
    assert problem.startswith("model.script.turns.0: a turn has either")
    assert long_say not in problem
    got = problem[problem.index("(got ") + len("(got ") : -1]
    assert len(got) <= 60
    assert got.endswith("...")


def test_missing_mission_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "mission.yaml"
    with pytest.raises(SpecError) as info:
        load_mission(path)
    assert info.value.path == path
    assert info.value.problems == ["cannot read file: No such file or directory"]
    assert str(info.value) == (
        f"{path}: invalid mission spec\n  - cannot read file: No such file or directory"
    )


def test_empty_mission_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_mission(path)
    assert info.value.problems == ["the file is empty: expected a mission spec"]


def test_script_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "list.script.yaml").write_text("- final: done\n", encoding="utf-8")
    path = tmp_path / "mission.yaml"
    path.write_text(
        "name: m\nprofile: p\ngoal: g\nmodel: {script: list.script.yaml}\n", encoding="utf-8"
    )
    with pytest.raises(SpecError) as info:
        load_mission(path)
    assert info.value.path == path
    (problem,) = info.value.problems
    assert problem.startswith("model.script: ")
    assert "list.script.yaml must hold a mapping" in problem


def test_yaml_1_1_booleans_are_read_as_strings(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `on`, `off`, `yes` and `no` as booleans: here only
    # true/false are, so such a key (or value) survives as written.
    path = tmp_path / "params.yaml"
    path.write_text(
        "name: d\n"
        "profile: p\n"
        "goal: g\n"
        "model:\n"
        "  script: {turns: [{final: done}]}\n"
        "  parameters: {on: yes, off: no, flag: true, other: False}\n",
        encoding="utf-8",
    )
    assert load_mission(path).model.parameters == {
        "on": "yes",
        "off": "no",
        "flag": True,
        "other": False,
    }


@pytest.mark.parametrize(
    "key",
    [
        "directives: [{name: n, on: [tool_call]}]",
        "directives: [{name: n, on: [tool_call], when: {tool: tickets.comment}, action: warn}]",
    ],
    ids=["short", "whole"],
)
def test_a_retired_directive_list_is_refused_not_ignored(tmp_path: Path, key: str) -> None:
    """Declared means enforced: a mission written for the retired directive list
    must not run looking protected by directives nothing reads."""
    path = tmp_path / "m.yaml"
    path.write_text(
        f"name: d\nprofile: p\ngoal: g\nmodel: {{script: {{turns: [{{final: done}}]}}}}\n{key}\n"
    )
    with pytest.raises(SpecError) as refused:
        load_mission(path)
    (problem,) = refused.value.problems
    assert problem.startswith("directives: Input should be a valid dictionary"), problem
    assert "'on': ['tool_call']" in problem  # not True: the key survived YAML 1.1


# --- directives (Sealed V): Cedar policies inline or from a file beside the spec ----

HEADER = "name: d\nprofile: p\ngoal: g\nmodel: {script: {turns: [{final: done}]}}\n"
POLICY = (
    '@id("no-billing-comments")\n'
    'forbid(principal, action == Sealed::Action::"call", '
    'resource == Sealed::Tool::"tickets.comment");\n'
)


def test_directives_file_is_inlined_with_its_origin(tmp_path: Path) -> None:
    (tmp_path / "x.cedar").write_text(POLICY, encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(HEADER + "directives: {file: x.cedar, mode: log_only}\n", encoding="utf-8")
    spec = load_mission(path)
    assert spec.directives == DirectivesSpec(
        policies=POLICY, mode="log_only", origin=str((tmp_path / "x.cedar").resolve())
    )
    # Self-contained: the policies travel in the spec, not the file's name.
    assert MissionSpec.model_validate_json(spec.model_dump_json()) == spec


def test_inline_directives_name_the_spec_as_their_origin(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    block = "".join(f"    {line}\n" for line in POLICY.splitlines())
    path.write_text(HEADER + "directives:\n  policies: |\n" + block, encoding="utf-8")
    directives = load_mission(path).directives
    assert directives.policies == POLICY
    assert directives.mode == "enforce"
    assert directives.origin == f"{path} (directives.policies)"


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.cedar", "sub/../../outside.cedar"])
def test_a_directives_file_must_be_beside_the_spec(tmp_path: Path, name: str) -> None:
    (tmp_path / "outside.cedar").write_text("// SECRET-CONTENT\n" + POLICY)
    folder = tmp_path / "missions"
    (folder / "sub").mkdir(parents=True)
    path = folder / "m.yaml"
    path.write_text(HEADER + f"directives: {{file: '{name}'}}\n", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_mission(path)
    assert refused.value.path == path
    assert refused.value.problems == [
        "directives.file: must name a file in the spec's own folder (no '/' or '..')"
    ]
    assert "SECRET-CONTENT" not in str(refused.value) and "root:" not in str(refused.value)


def test_a_directives_file_and_inline_policies_are_refused_together(tmp_path: Path) -> None:
    (tmp_path / "x.cedar").write_text(POLICY, encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(HEADER + "directives: {file: x.cedar, policies: ''}\n", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_mission(path)
    assert refused.value.problems == ["directives.file: a file name, instead of 'policies'"]


def test_a_mission_may_not_relax_a_default(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEADER + "directives: {relax: [sealed.untrusted-egress]}\n", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_mission(path)
    (problem,) = refused.value.problems
    assert problem.startswith("directives: relax: a mission may only add restrictions"), problem


def test_an_empty_directive_list_loads_as_none(tmp_path: Path) -> None:
    """What histories recorded before directives ran carry."""
    path = tmp_path / "m.yaml"
    path.write_text(HEADER + "directives: []\n", encoding="utf-8")
    assert load_mission(path).directives == DirectivesSpec()


# --- red team 15: what a spec may read, and how big it may get -------------------

MISSION = """name: m
profile: support-agent
goal: g
model: {{provider: scripted, script: {script}}}
"""


@pytest.mark.parametrize("script", ["/etc/passwd", "../outside.yaml", "sub/../../outside.yaml"])
def test_a_script_must_be_beside_the_mission(tmp_path: Path, script: str) -> None:
    (tmp_path / "outside.yaml").write_text("turns: [{final: SECRET-CONTENT}]\n")
    folder = tmp_path / "missions"
    (folder / "sub").mkdir(parents=True)
    mission = folder / "m.yaml"
    mission.write_text(MISSION.format(script=script))
    with pytest.raises(SpecError, match="spec's own folder") as caught:
        load_mission(mission)
    assert "SECRET-CONTENT" not in str(caught.value) and "root:" not in str(caught.value)


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("turns: [{final: SECRET-CONTENT}]\n")
    folder = tmp_path / "missions"
    folder.mkdir()
    (folder / "script.yaml").symlink_to(tmp_path / "outside.yaml")
    (folder / "m.yaml").write_text(MISSION.format(script="script.yaml"))
    with pytest.raises(SpecError, match="spec's own folder"):
        load_mission(folder / "m.yaml")


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """Under `model.parameters`, which takes any value: 9**10 strings from <1 KiB."""
    levels = ['    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "name: m\nprofile: support-agent\ngoal: g\nmodel:\n  provider: scripted\n"
        "  script: {turns: [{final: ok}]}\n  parameters:\n" + "\n".join(levels) + "\n"
    )
    assert bomb.stat().st_size < 1024
    started = time.monotonic()
    with pytest.raises(SpecError, match="aliases expand"):
        load_mission(bomb)
    assert time.monotonic() - started < 2


def test_a_huge_spec_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text(MISSION.format(script="x.yaml") + f"system_prompt: {'x' * 300_000}\n")
    with pytest.raises(SpecError, match="over 256 KiB"):
        load_mission(huge)
