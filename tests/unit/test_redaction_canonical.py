"""The canonical view (red team 1): a secret split by hidden characters,
spelled in JSON escapes, HTML entities, fullwidth or mathematical letters or
tag characters is found in the view and masked in the original text, at every
crossing of the per-call screen and in a stream; the view maps every span back
exactly."""

from __future__ import annotations

import json
import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealed.identity.backend import SecretValue
from sealed.models import Message, ModelReply, ModelRequest, ModelScript, ModelSpec, ToolCall
from sealed.redaction.canonical import _changes, _folding, canonical
from sealed.redaction.known import KnownValues, fingerprint
from sealed.redaction.redactor import Redactor, StreamRedactor
from sealed.redaction.screen import Screens
from sealed.testing import StaticRedactionKey
from tests.containment import fullwidth, math_bold

KEY = b"k" * 32
SECRET = "tok-9f8e7d6c5b4a3210xyz"  # a known value: only its fingerprints are held
GITHUB = "ghp_4MMKM6SKcfv2oAwKKhWVkYfZIf1JE2nT5dyD"  # a pattern: github-token


HIDDEN = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u200e", "\u202e", "\u2066"]
# Each spelling of a value that a reader (or a model) reads as the value itself.
SPELLINGS = {
    **{
        f"split by U+{ord(h):04X}": (
            lambda v, h=h: h.join(v[i : i + 5] for i in range(0, len(v), 5))
        )
        for h in HIDDEN
    },
    "a hidden character between every two": lambda v: "\u200b".join(v),
    "split by a JSON-escaped ZWSP": lambda v: v[:6] + "\\u200b" + v[6:],
    "split by an entity ZWSP": lambda v: v[:6] + "&#8203;" + v[6:],
    "JSON \\u escapes (Go's encoding/json)": lambda v: (
        "".join(f"\\u{ord(c):04x}" for c in v[:9]) + v[9:]
    ),
    "hex entities": lambda v: v[:3] + "".join(f"&#x{ord(c):X};" for c in v[3:12]) + v[12:],
    "decimal entities": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "entities for punctuation": lambda v: v.replace("_", "&lowbar;").replace("-", "&#45;"),
    "fullwidth": lambda v: "".join(fullwidth(c) for c in v),
    "mathematical bold": lambda v: "".join(math_bold(c) for c in v),
    "tag characters": lambda v: "".join(chr(0xE0000 + ord(c)) for c in v),
    "entity-escaped ZWSP and fullwidth mixed": lambda v: fullwidth(v[0]) + "&#x200B;" + v[1:],
}


def redactor() -> Redactor:
    return Redactor(KnownValues(KEY, fingerprint(KEY, "api_key", SECRET)))


def leaks(value: str, text: str) -> bool:
    """The value is in the text as a reader takes it in."""
    view = canonical(text)
    return value in (view.text if view is not None else text)


@pytest.mark.parametrize("spell", SPELLINGS.values(), ids=SPELLINGS.keys())
@pytest.mark.parametrize("value", [SECRET, GITHUB], ids=["known value", "pattern"])
def test_every_spelling_is_masked_and_the_rest_kept(spell, value):
    spelled = spell(value)
    assert leaks(value, spelled)  # the check can fail: the spelling reads as the value
    text = f"before \u200b&amp; {spelled} after \\u00e9 \uff2f\uff2b"
    out = redactor().redact(text)
    assert not leaks(value, out.text), out.text
    assert out.findings
    # What is not a secret reaches the reader as it was written.
    assert out.text.startswith("before \u200b&amp; [REDACTED:")
    assert out.text.endswith("] after \\u00e9 \uff2f\uff2b")


@settings(max_examples=150, deadline=None)
@given(
    spell=st.sampled_from(list(SPELLINGS.values())),
    value=st.sampled_from([SECRET, GITHUB]),
    cuts=st.lists(st.integers(1, 60), max_size=40),
)
def test_every_spelling_is_masked_in_a_stream(spell, value, cuts):
    text = "x " * 40 + spell(value) + " y" * 40
    stream = StreamRedactor(redactor())
    out, position = [], 0
    for size in cuts:
        out.append(stream.feed(text[position : position + size]))
        position += size
    out += [stream.feed(text[position:]), stream.flush()]
    assert not leaks(value, "".join(out))


async def test_every_crossing_masks_a_hidden_spelling(tmp_path):
    """Prompt out, reply in (text and tool-call arguments), tool output and errors."""
    from sealed.audit import AuditLog

    zw = SPELLINGS["split by U+200B"]
    script = ModelScript.model_validate({"turns": [{"final": "x"}]})
    async with Screens(StaticRedactionKey(b"m" * 32), AuditLog(tmp_path / "a.log")).open(
        "m-1", [], where="model_turn", tool="t"
    ) as screen:
        screen.issue({"api_key": SecretValue("api_key", SECRET)})
        request = screen.prompt_out(
            ModelRequest(
                mission_id="m-1",
                turn=1,
                model=ModelSpec(script=script),
                system_prompt=f"sys {zw(GITHUB)}",
                goal=f"goal {zw(SECRET)}",
                conversation=[Message(role="tool", name="t", content=zw(SECRET))],
                tools=[],
            )
        )
        reply = screen.reply_in(
            ModelReply(
                content=zw(GITHUB),
                tool_calls=[ToolCall(id="c1", name="t", arguments={"a": [zw(SECRET)]})],
            )
        )
        output = screen.tool_output(SPELLINGS["hex entities"](SECRET))
        message, details = screen.error(zw(SECRET), [{"k": SPELLINGS["fullwidth"](GITHUB)}])
    seen = json.dumps(
        [request.model_dump(), reply.model_dump(), output.text, message, details],
        ensure_ascii=False,
    )
    assert not leaks(SECRET, seen) and not leaks(GITHUB, seen)
    assert seen.count("[REDACTED:") == 8


# --- the view and its map --------------------------------------------------------

pieces = st.lists(
    st.one_of(
        st.text(alphabet=string.ascii_letters + string.digits + " .:/\"{}", max_size=6),
        st.sampled_from(
            [
                "\u200b", "\u00ad", "\U000e0041", "&amp;", "&#x2F;", "&#47", "&lowbar;",
                "&nosuch;", "\\u0041", "\\u200b", "\\ud83d\\ude00", "\\ud800", "\\\\u0041",
                "\\/", "\uff47", "\ufb01", "\U0001d400", "é", "日本", "\ud800",
            ]
        ),
    ),
    max_size=30,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(parts=pieces)
def test_the_view_maps_every_piece_back_to_where_it_came_from(parts):
    text = " ".join(parts)  # spaces keep each piece one escape, entity or run
    view = canonical(text)
    shown = [(alone.text if (alone := canonical(part)) else part) for part in parts]
    assert (view.text if view else text) == " ".join(shown)
    if view is None:
        return
    offset = position = 0
    for part, seen in zip(parts, shown, strict=True):
        if seen:
            assert view.original(offset, offset + len(seen)) == (position, position + len(part))
        offset += len(seen) + 1
        position += len(part) + 1


def test_the_fold_table_agrees_with_unicodedata_character_by_character():
    table = _folding()
    expected = [_changes(chr(c)) for c in range(len(table))]
    assert table.tolist() == expected
    assert table[ord("\uff47")] and table[0x200B] and not table[ord("é")] and not table[ord("a")]
    assert unicodedata.normalize("NFKC", "\U0001d400") == "A" and table[ord("\U0001d400")]


def test_plain_ascii_has_no_view():
    assert canonical("a plain log line with no escapes: id=42 & done") is None
    assert canonical("日本語のテキスト") is None
