"""What a model or a tool wrote reaches the operator's terminal as text, never
as control sequences (red team 13): no erased lines, no faked `[ok]`, no
clipboard writes (OSC 52), no window title, no bidi reordering."""

from __future__ import annotations

import pytest

from sealed.cli.missions import print_result
from sealed.config import Settings
from sealed.missions import describe_message
from sealed.models import Message, MissionResult, MissionStatus, ToolCall
from sealed.terminal import printable

ATTACKS = [
    "\x1b[2K\x1b[1A  tickets.comment [ok]: done",  # erase the line, move up, fake a result
    "\x1b]52;c;ZXZpbA==\x07",  # write the clipboard
    "\x1b]0;sealed: all good\x1b\\",  # retitle the window
    "\x9b31m",  # a C1 CSI
    "\r  fake\x08\x08\x7f",
    "file\u202egnp.exe",  # right-to-left override
]
CONTROLS = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E]} - {"\n", "\t"}


def clean(text: str) -> bool:
    return not CONTROLS & set(text)


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_control_is_shown_not_obeyed(attack):
    shown = printable(attack)
    assert clean(shown)
    assert len(shown) == len(attack)  # shown one for one: an attempt stays visible


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_live_transcript_prints_no_control(attack):
    lines = [
        describe_message(Message(role="tool", name=f"x{attack}", content=attack)),
        describe_message(Message(role="assistant", content=attack)),
        describe_message(
            Message(role="assistant", tool_calls=[ToolCall(id="c", name=attack, arguments={})])
        ),
    ]
    assert all(clean(line) for line in lines)


def test_the_result_prints_no_control(capsys):
    result = MissionResult(
        mission_id="m-1",
        status=MissionStatus.FAILED,
        answer=ATTACKS[0],
        reason=ATTACKS[1],
        turns=1,
        tool_calls=0,
    )
    print_result(result, Settings())
    out = capsys.readouterr().out
    assert clean(out.replace("\n", "")) and "␛" in out


@pytest.mark.parametrize("hidden", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\U000e0041"])
def test_a_value_split_by_an_invisible_character_is_shown_split(hidden):
    """Found by the containment sweep: a terminal rendered `to\u200bken` as `token`."""
    shown = printable(f"to{hidden}ken")
    assert shown == "to\ufffdken"
