"""Known values: any issued value, in any encoding, anywhere in a text, split
at any chunk boundary, never survives redaction; redaction is idempotent."""

from __future__ import annotations

import base64
import html
import html.entities
import json
import re
import string
import urllib.parse

import numpy as np
import pytest
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
    with pytest.raises(ValueError, match="shorter than 8"):
        fingerprint(KEY, "pin", "1234")


# --- structured secrets: every string leaf is a known value of its own ---------------

STS_CREDS = json.dumps(
    {
        "AccessKeyId": "ASIAQ3EXAMPLE7Q2W3E4",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "SessionToken": "FwoGZXIvYXdzEJr//////////wEaDHVzLWVhc3QtMSJHMEUCIQD+6TZ/examplE==",
        "Expiration": "2026-11-25T10:15:00+00:00",
    }
)
DB_SECRET = json.dumps(
    {"engine": "postgres", "username": "app", "password": "c0rrect-h0rse/Battery+St@ple"}
)


def test_a_json_secrets_leaves_are_masked_alone_in_any_encoding():
    """aws-sts hands a tool a JSON blob and aws-secrets-manager (without
    options.key) a whole JSON document: the tool uses the parts."""
    redactor = redactor_for(("aws_creds", STS_CREDS), ("db", DB_SECRET))
    secret_key = json.loads(STS_CREDS)["SecretAccessKey"]
    token = json.loads(STS_CREDS)["SessionToken"]
    password = json.loads(DB_SECRET)["password"]
    for leaked, label in [
        (secret_key, "aws_creds.SecretAccessKey"),
        (base64.b64encode(f"AKID:{secret_key}".encode()).decode(), "aws_creds.SecretAccessKey"),
        (urllib.parse.quote(secret_key, safe=""), "aws_creds.SecretAccessKey"),
        (f"X-Amz-Security-Token={urllib.parse.quote(token)}", "aws_creds.SessionToken"),
        (password, "db.password"),
        (base64.b64encode(f"app:{password}".encode()).decode(), "db.password"),
        (urllib.parse.quote_plus(password), "db.password"),
    ]:
        out = redactor.redact(f"curl -H 'k: {leaked}' done").text
        assert f"[REDACTED:{label}]" in out, leaked
        assert secret_key not in out and password not in out and leaked not in out
    # The whole value is still a known value, named as issued.
    assert redactor.redact(f"env {STS_CREDS}").text == "env [REDACTED:aws_creds]"


def test_leaves_include_long_numbers_and_json_inside_a_string_and_skip_short_ones():
    doc = json.dumps(
        {
            "pin": 123456789012,
            "port": 5432,
            "user": "app",
            "nested": json.dumps({"api_key": "nk-7Hq2LmP9xVb4"}),
            "list": ["first-item-secret", {"deep": "d33p-s3cr3t-v4lue"}],
        }
    )
    names = {fp.name for fp in fingerprint(KEY, "cfg", doc)}
    assert names == {
        "cfg",
        "cfg.pin",
        "cfg.nested",
        "cfg.nested.api_key",
        "cfg.list[0]",
        "cfg.list[1].deep",
    }
    redactor = redactor_for(("cfg", doc))
    out = redactor.redact("pin 123456789012 key nk-7Hq2LmP9xVb4 d33p-s3cr3t-v4lue port 5432").text
    assert out == (
        "pin [REDACTED:cfg.pin] key [REDACTED:cfg.nested.api_key] "
        "[REDACTED:cfg.list[1].deep] port 5432"
    )


def test_a_leafs_label_never_carries_a_value():
    """Labels reach redacted text and audit records: a key that looks like a
    secret (or is not a plain identifier) is named by its position."""
    token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    doc = json.dumps({token: "scope-admin-write", "odd key!": "another-long-value"})
    fps = fingerprint(KEY, "keys", doc)
    assert {fp.name for fp in fps} == {"keys", "keys.#0", "keys.#1"}
    assert all(token not in fp.name for fp in fps)


def test_a_document_with_too_many_leaves_is_refused():
    """Every leaf costs fingerprints in the mission's history: a document of
    many fields must be issued one field at a time (options.key)."""
    doc = json.dumps({f"field{i}": f"value-number-{i:04d}" for i in range(65)})
    with pytest.raises(ValueError, match=r"options\.key"):
        fingerprint(KEY, "big", doc)


# --- every encoding a real HTTP client, JSON encoder or template engine produces -----

VALUE = "p@ss/w0rd+Key=<&>\"q'~ é中!"


def _pct_lower(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _entities(text: str, fmt: str) -> str:
    return "".join(c if c.isalnum() and c.isascii() else fmt.format(ord(c)) for c in text)


def _go_json(value: str) -> str:
    """Go's encoding/json: HTML-safe, non-ASCII kept."""
    body = json.dumps(value, ensure_ascii=False)[1:-1]
    return body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


ESCAPED = {
    "go-json": _go_json,
    "gson-html-safe": lambda v: _go_json(v).replace("=", "\\u003d").replace("'", "\\u0027"),
    "php-json-slashes": lambda v: json.dumps(v)[1:-1].replace("/", "\\/"),
    "json-upper-hex": lambda v: re.sub(
        r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps(v)[1:-1]
    ),
    "json-every-char": lambda v: "".join(f"\\u{ord(c):04x}" for c in v),
    "js-string-literal": lambda v: v.replace("\\", "\\\\").replace("'", "\\'").replace("/", "\\/"),
    "percent-lower": lambda v: _pct_lower(urllib.parse.quote(v, safe="")),
    "percent-safe-slash": lambda v: urllib.parse.quote(v),
    "percent-form-lower": lambda v: _pct_lower(urllib.parse.quote_plus(v)),
    "encodeURIComponent": lambda v: urllib.parse.quote(v, safe="-_.!~*'()"),
    "encodeURI": lambda v: urllib.parse.quote(v, safe=";,/?:@&=+$#-_.!~*'()"),
    "html-escape": lambda v: html.escape(v),
    "markupsafe": lambda v: (
        v.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    ),
    "go-html-template": lambda v: (
        html.escape(v, quote=False)
        .replace('"', "&#34;")
        .replace("'", "&#39;")
        .replace("+", "&#43;")
    ),
    "entity-decimal": lambda v: _entities(v, "&#{};"),
    "entity-hex-lower": lambda v: _entities(v, "&#x{:x};"),
    "entity-hex-upper": lambda v: _entities(v, "&#X{:X};"),
    "entity-hex-padded": lambda v: _entities(v, "&#x{:04X};"),
    "entity-named-html5": lambda v: "".join(
        {"/": "&sol;", "+": "&plus;", "=": "&equals;", "@": "&commat;", "!": "&excl;"}.get(
            c, html.escape(c)
        )
        for c in v
    ),
    "xml-apos": lambda v: html.escape(v).replace("&#x27;", "&apos;"),
}


@pytest.mark.parametrize("encoding", sorted(ESCAPED))
def test_every_escaping_encoder_is_masked(encoding):
    redactor = redactor_for(("api_key", VALUE))
    encoded = ESCAPED[encoding](VALUE)
    assert encoded != VALUE
    out = redactor.redact(f'<a title="{encoded}">x</a> and {{"k": "{encoded}"}}').text
    assert out.count("[REDACTED:api_key]") == 2, out
    assert encoded not in out


def _wrapped(value: bytes, prefix: bytes, width: int, newline: str) -> str:
    encoded = base64.b64encode(prefix + value).decode()
    return newline.join(encoded[i : i + width] for i in range(0, len(encoded), width))


@pytest.mark.parametrize(
    ("width", "newline"), [(76, "\n"), (76, "\r\n"), (64, "\n"), (64, "\r\n"), (20, "\n")]
)
def test_line_wrapped_base64_is_masked_wherever_the_breaks_fall(width, newline):
    """MIME (76 columns), PEM (64), any width: for every offset of the value
    in the encoded stream, so a break falls at every place in its encoding,
    the first 8 characters included."""
    value = "tok-9f8e7d6c5b4a3210-ZyXwVuTsRqPo"
    redactor = redactor_for(("api_key", value))
    for offset in range(0, width + 3):
        block = _wrapped(value.encode(), b"x" * offset, width, newline)
        out = redactor.redact(f"Content-Transfer-Encoding: base64\n\n{block}\n--end").text
        assert "[REDACTED:api_key]" in out, offset
        joined = re.sub(r"\s+", "", out)
        assert all(form.decode() not in joined for form, widen in encoded_forms(value) if widen)


@pytest.mark.parametrize("tail", ["", "\n", "\n ", "\r\n\t"])
def test_wrapped_base64_is_masked_at_the_texts_edges(tail):
    """A text that is the wrapped block: breaks within 8 bytes of either end,
    where the windows across them reach past the text. A text ending in a
    break and one blank raised IndexError, in itself or in a decoded view."""
    value = "tok-9f8e7d6c5b4a3210-ZyXwVuTsRqPo"
    redactor = redactor_for(("api_key", value))
    for width in (8, 9, 13):
        for offset in range(3):
            block = _wrapped(value.encode(), b"x" * offset, width, "\n")
            out = redactor.redact(block + tail).text
            assert "[REDACTED:api_key]" in out and out.endswith(tail), (width, offset)
            joined = re.sub(r"\s+", "", out)
            assert all(f.decode() not in joined for f, widen in encoded_forms(value) if widen)
    for text in ("any text\n ", "a &amp; b\n ", "a &amp; bcdefghij\r\n\t"):
        assert redactor.redact(text).text == text


def test_indented_and_hex_wrapped_forms_are_masked():
    value = "tok-9f8e7d6c5b4a3210-ZyXwVuTsRqPo"
    redactor = redactor_for(("api_key", value))
    block = _wrapped(value.encode(), b"user:", 16, "\n      ")  # a YAML block scalar
    assert "[REDACTED:api_key]" in redactor.redact(f"cert: |\n      {block}\n").text
    hexed = value.encode().hex()  # xxd -p wraps at 60 columns
    xxd = "\n".join(hexed[i : i + 60] for i in range(0, len(hexed), 60))
    assert redactor.redact(xxd).text == "[REDACTED:api_key]"


def test_percent_encoded_base64_is_masked():
    """A basic-auth token or a base64 value in a query string: `+/=` escaped."""
    value = "sk-~~>>??-live-1234567890"  # its base64 has + and / at every alignment
    redactor = redactor_for(("api_key", value))
    for prefix in (b"", b"u:", b"ab:"):
        b64 = base64.b64encode(prefix + value.encode()).decode()
        for encoded in (urllib.parse.quote(b64, safe=""), _pct_lower(urllib.parse.quote(b64))):
            assert "%2" in encoded.upper()
            out = redactor.redact(f"GET /cb?state={encoded}&x=1").text
            assert "[REDACTED:api_key]" in out and encoded not in out


@pytest.mark.parametrize("cut", ["first", "last"])
def test_a_value_with_a_character_cut_off_is_masked(cut):
    value = "sk-live-0123456789abcdefXYZ"
    leaked = {"first": value[1:], "last": value[:-1]}[cut]
    redactor = redactor_for(("api_key", value))
    assert redactor.redact(f"key={leaked};").text == "key=[REDACTED:api_key];"
    # ... also when that shortened value is then URL- or HTML-escaped.
    assert "[REDACTED:api_key]" in redactor.redact(urllib.parse.quote(leaked + "&")).text


def test_short_values_are_not_cut():
    """A short value cut by one character is too often an ordinary word."""
    redactor = redactor_for(("pw", "password1"))
    assert redactor.redact("password reset").text == "password reset"


escape_values = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.~+/=:@!$&'()*,;% \"\\<>é中",
    min_size=8,
    max_size=40,
).filter(lambda v: len(set(v)) > 3)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=escape_values,
    before=noise,
    after=noise,
    which=st.sampled_from(sorted(ESCAPED)),
    cuts=st.lists(st.integers(1, 60), max_size=20),
)
def test_no_escaped_form_survives_whole_or_streamed(value, before, after, which, cuts):
    redactor = redactor_for(("api_key", value))
    text = f"{before} {ESCAPED[which](value)} {after}"
    out = redactor.redact(text).text
    assert "[REDACTED:api_key]" in out
    assert redactor.redact(out).text == out
    stream = StreamRedactor(redactor)
    streamed, position = [], 0
    for size in cuts:
        streamed.append(stream.feed(text[position : position + size]))
        position += size
    streamed.append(stream.feed(text[position:]))
    streamed.append(stream.flush())
    assert "".join(streamed) == out


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=values,
    prefix=st.binary(max_size=80),
    width=st.integers(8, 80),
    newline=st.sampled_from(["\n", "\r\n", "\n  "]),
    cuts=st.lists(st.integers(1, 60), max_size=20),
)
def test_wrapped_base64_is_masked_whole_or_streamed(value, prefix, width, newline, cuts):
    redactor = redactor_for(("api_key", value))
    text = f"begin\n{_wrapped(value.encode(), prefix, width, newline)}\nend"
    out = redactor.redact(text).text
    assert "[REDACTED:api_key]" in out
    joined = re.sub(r"\s+", "", out)
    assert all(form.decode() not in joined for form, widen in encoded_forms(value) if widen)
    stream = StreamRedactor(redactor)
    streamed, position = [], 0
    for size in cuts:
        streamed.append(stream.feed(text[position : position + size]))
        position += size
    streamed.append(stream.feed(text[position:]))
    streamed.append(stream.flush())
    assert "".join(streamed) == out


# A reference for the escape decoding (done with numpy in known.py): one regex per kind.
_REFERENCE = {
    b"%": (re.compile(rb"%([0-9A-Fa-f]{2})"), lambda m: bytes([int(m[1], 16)])),
    b"\\": (
        re.compile(
            rb"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
            rb"|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([bfnrt!-/:-@\[-`{-~]))"
        ),
        lambda m: (
            _char(0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00)
            if m[1]
            else _char(int(m[3], 16))
            if m[3]
            else bytes([int(m[4], 16)])
            if m[4]
            else {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m[5], m[5])
        ),
    ),
    b"&": (
        re.compile(rb"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,30}));"),
        lambda m: (
            _char(int(m[1]))
            if m[1]
            else _char(int(m[2], 16))
            if m[2]
            else (html.entities.html5.get(m[3].decode() + ";") or "").encode() or None
        ),
    ),
}


def _char(code: int) -> bytes | None:
    return chr(code).encode() if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _reference(data: bytes, kind: bytes) -> bytes:
    pattern, decode = _REFERENCE[kind]
    return pattern.sub(lambda m: decode(m) or m[0], data)


@settings(max_examples=500)
@given(
    st.text(
        alphabet="%\\&#;xXuUdD0123456789abcfABCFnrt/\"'amplgt quoté中𝄞{}", min_size=1, max_size=60
    )
)
def test_escapes_decode_as_a_regex_per_kind_would(text):
    from sealed.redaction.known.escapes import _ESCAPES, _PAD, _View

    data = text.encode()
    for first, finder in _ESCAPES:
        escapes = finder(np.frombuffer(data + bytes(_PAD), dtype=np.uint8), len(data))
        expected = _reference(data, first)
        if not len(escapes.starts):
            assert expected == data
            continue
        view = _View(data, escapes, reach=len(data))  # one region: the whole text
        assert view.data == expected
        assert view.original(0, len(view.data)) == (0, len(data))
