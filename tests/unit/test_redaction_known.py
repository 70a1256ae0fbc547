"""Known values: any issued value, in any encoding, anywhere in a text, split
at any chunk boundary, never survives redaction; redaction is idempotent."""

from __future__ import annotations

import base64
import json
import string
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealed.redaction.known import KnownValues, encoded_forms, fingerprint
from sealed.redaction.redactor import Redactor, StreamRedactor

KEY = b"k" * 32


def encodings(prefix: bytes, value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        base64.b64encode(prefix + raw).decode(),
        base64.urlsafe_b64encode(prefix + raw).decode(),
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        raw.hex(),
        raw.hex().upper(),
        json.dumps({"v": value}),
    ]


values = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.~+/=:@!$&'()*,;% \"\\",
    min_size=8,
    max_size=48,
).filter(lambda v: len(set(v)) > 3)
noise = st.text(alphabet=string.printable + "éü中", max_size=200)


def redactor_for(*named: tuple[str, str]) -> Redactor:
    fps = [fp for name, value in named for fp in fingerprint(KEY, name, value)]
    return Redactor(KnownValues(KEY, fps), patterns=lambda text: [], pattern_holdback=0)


def survives(value: str, text: str) -> list[str]:
    return [form.decode() for form, _ in encoded_forms(value) if form.decode() in text]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=values, before=noise, after=noise, prefix=st.binary(max_size=5), which=st.integers(0, 7)
)
def test_no_encoding_of_an_issued_value_survives(value, before, after, prefix, which):
    redactor = redactor_for(("api_key", value))
    text = before + encodings(prefix, value)[which] + after
    out = redactor.redact(text).text
    assert survives(value, out) == []
    assert "[REDACTED:api_key]" in out


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=values,
    before=noise,
    after=noise,
    which=st.integers(0, 7),
    cuts=st.lists(st.integers(1, 40), max_size=30),
)
def test_split_across_any_chunk_boundary(value, before, after, which, cuts):
    redactor = redactor_for(("api_key", value))
    text = before + encodings(b"u:", value)[which] + after
    stream = StreamRedactor(redactor)
    out, position = [], 0
    for size in cuts:
        out.append(stream.feed(text[position : position + size]))
        position += size
    out.append(stream.feed(text[position:]))
    out.append(stream.flush())
    assert survives(value, "".join(out)) == []
    assert "".join(out) == redactor.redact(text).text
    assert redactor.holdback < 200  # chunks really were emitted before the end


@settings(max_examples=200)
@given(value=values, text=noise)
def test_idempotent(value, text):
    redactor = redactor_for(("api_key", value))
    once = redactor.redact(text + value + text).text
    assert redactor.redact(once).text == once


def test_names_every_secret_and_every_occurrence():
    redactor = redactor_for(
        ("tickets_token", "tok-A1b2C3d4E5f6"), ("db_password", "pw-9Z8y7X6w5V4u")
    )
    text = "a tok-A1b2C3d4E5f6 b pw-9Z8y7X6w5V4u c tok-A1b2C3d4E5f6"
    result = redactor.redact(text)
    assert (
        result.text
        == "a [REDACTED:tickets_token] b [REDACTED:db_password] c [REDACTED:tickets_token]"
    )
    assert result.counts() == {"known:tickets_token": 2, "known:db_password": 1}


def test_fingerprints_reveal_nothing_and_confirm_nothing_without_the_key():
    value = "sk-live-0123456789abcdef"
    fps = fingerprint(KEY, "k", value)
    dumped = json.dumps([fp.model_dump() for fp in fps])
    assert all(form.decode() not in dumped for form, _ in encoded_forms(value))
    other = Redactor(KnownValues(b"x" * 32, fps), patterns=lambda t: [])
    assert other.redact(f"leak {value}").text == f"leak {value}"


def test_short_values_cannot_be_fingerprinted():
    import pytest

    with pytest.raises(ValueError, match="shorter than 8"):
        fingerprint(KEY, "pin", "1234")
