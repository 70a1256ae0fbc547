"""Pattern rules: secret-shaped strings and PII that no known value covers.

Each `Rule` is kept the way gitleaks keeps its rules: an id, a regex, lowercase
`keywords` (every match contains one), an optional `validate` (Luhn, mod-97,
entropy, ...) and a corpus of true and false positives under
tests/data/redaction/rules/<id>.yaml. `find_secrets` returns every occurrence as
merged, ordered, non-overlapping spans.

Speed. Measured on CPython 3.11 over 1 MiB: a failed `kw in text` costs about
what a literal-prefixed `re` scan costs (~0.5 ms), and every position where SRE
*tries* a match costs ~100 ns, so a `\\d`-led pattern costs 10-30 ms on
digit-heavy logs. So gitleaks' keyword prefilter, one pass per keyword in Python,
would save nothing; instead each rule is located where it is cheapest:
- a regex that starts with a rare literal (SRE's prefix search skips the rest in
  C); a rule whose secret starts before its rarest character anchors on it and
  says how far back the secret starts (`lead`);
- the generic assignment rule, whose keywords are common words: one literal-led
  scanner per keyword;
- digit-shaped PII: str.find of shapes ("0000-0000-0000") in a skeleton of the
  text (one bytes.translate), the rule's regex confirming each hit;
- email: the "@"s, and the local part read backwards from each.
With hyperscan installed one pass over all rules locates the candidates instead
(the same `re` regexes confirm them), about 4x faster; both engines return the
same findings, which the tests check.

Documented example keys (AWS's `...EXAMPLE` keys, Stripe's and jwt.io's
published samples, placeholder runs like `xxxx`) are not secrets: they are left
alone so a model can read vendor docs verbatim. The allowlist is exact values
plus AWS's EXAMPLE convention, which no random key can hit by chance.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

import yaml

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    regex: re.Pattern[str]
    # Lowercase literals; every match of `regex` contains one (a tested invariant).
    keywords: tuple[str, ...]
    kind: Literal["secret", "pii"] = "secret"
    # Named group holding the secret (`key = "value"` redacts the value only);
    # None redacts the whole match (extended left by `lead`).
    group: str | None = None
    # Gets the secret's text as written (the regex may run on the lowercased text).
    validate: Validator | None = None
    # Match against text.lower(): key names are case-insensitive, and SRE loses its
    # literal-prefix search under re.IGNORECASE.
    lowercase: bool = False
    # Characters of the secret before where the regex starts (it anchors on a rarer one).
    lead: int = 0
    # Upper bound on a match's length: sizes the windows the locators open.
    max_len: int = 300
    # Pure engine: literal-led regexes that find the same matches as `regex`, one
    # per common keyword, used instead of a scan with `regex` itself.
    scanners: tuple[re.Pattern[str], ...] = ()
    # Pure engine, instead of a scan with `regex`: literals every match contains,
    # found with str.find in the text or (`skeleton`) in its shape, where digits are
    # 0, letters A or a, and " .-" are "-"; `regex` then runs around each hit, and
    # `reach` is how far before a hit a match can start. A skeleton match never
    # starts inside a run of its needle's first character (its regex checks the
    # boundary), so the search skips such runs: a long digit run is one hit.
    anchors: tuple[str, ...] = ()
    skeleton: bool = False
    reach: int = 0
    # For a regex without a literal to start from (email), both engines: a regex
    # for the hits (a rare literal in context, so SRE skips the rest in C), and what
    # may precede a hit inside a match, matched on the reversed text before it. The
    # match can only start where that run stops, so one `regex.match` decides (a
    # search would try every position of the window).
    back: tuple[re.Pattern[str], re.Pattern[str]] | None = None
    # Hyperscan locator when `regex` in prefilter mode is too loose or too slow: it
    # must match wherever `regex` does, reporting an offset inside the match, at
    # most `hs_reach` after its start (default max_len); with `hs_som` it reports
    # where the match starts, and `regex.match` there decides.
    hs_pattern: str | None = None
    hs_reach: int = 0
    hs_som: bool = False


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    start: int
    end: int
    rule: str


# --- validators -------------------------------------------------------------


def shannon_entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


_DOCUMENTED_EXAMPLES: Final = frozenset(
    {
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe API reference
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",  # Stripe docs (older)
        "sk_test_26PHem9AhJZvU623DfE1x4sd",  # Stripe docs (older)
        # jwt.io's default token (HS256, "your-256-bit-secret")
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
        "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)
_PLACEHOLDER_MARKERS: Final = (
    "example", "xxxx", "your", "placeholder", "changeme", "change_me", "redacted",
    "dummy", "sample", "insert", "replace", "<", ">", "${", "{{", "%(", "****", "...",
    "123456789", "abcdefgh", "0000000",
)  # fmt: skip
_PLACEHOLDER_WORDS: Final = frozenset(
    {
        "password", "passwd", "pass", "secret", "token", "none", "null", "nil", "true",
        "false", "undefined", "required", "optional", "string", "hidden", "empty", "notset",
        "unset", "default", "admin", "root", "test", "changeit",
    }
)  # fmt: skip


def _placeholder(value: str) -> bool:
    """Docs and templates, not secrets: markers, bare words, one repeated character."""
    low = value.lower()
    if value in _DOCUMENTED_EXAMPLES or low in _PLACEHOLDER_WORDS:
        return True
    if any(m in low for m in _PLACEHOLDER_MARKERS):
        return True
    return Counter(low).most_common(1)[0][1] > 0.6 * len(low) if low else True


def _random_token(body_from: int = 0, min_entropy: float = 3.0) -> Validator:
    """A vendor token whose body (after its prefix) looks random, not a template."""

    def check(value: str) -> bool:
        body = value[body_from:]
        return not _placeholder(value) and shannon_entropy(body) >= min_entropy

    return check


def _aws_key(value: str) -> bool:
    # AWS documents its sample keys with an EXAMPLE suffix; a real key is random
    # base32 (access key) or base64 (secret) and never spells it.
    return "EXAMPLE" not in value and not _placeholder(value)


def _aws_secret(value: str) -> bool:
    return _aws_key(value) and shannon_entropy(value) >= 3.5


def _mixed_token(body_from: int) -> Validator:
    """OpenAI/Anthropic keys: upper, lower and digits in a long body."""

    def check(value: str) -> bool:
        body = value[body_from:]
        return (
            len(body) >= 32
            and not _placeholder(value)
            and any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
        )

    return check


def _b64decode(segment: str) -> bytes | None:
    try:
        return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        return None


def _jwt(value: str) -> bool:
    if value in _DOCUMENTED_EXAMPLES:
        return False
    raw = _b64decode(value.split(".", 1)[0])
    try:
        header = json.loads(raw) if raw else None
    except ValueError:
        return False
    return isinstance(header, dict) and "alg" in header


_PEM_ARMOR = re.compile(r"-----[A-Z0-9 _-]+-----|[A-Za-z-]+:[^\n\\]*|\\[nrt]")


def _pem(value: str) -> bool:
    # Keys pasted in docs have "..." or "<key>" bodies; a real one has base64.
    body = _PEM_ARMOR.sub("", value)
    return sum(c.isalnum() or c in "+/" for c in body) >= 40


def _basic_auth(value: str) -> bool:
    raw = _b64decode(value.rstrip("="))
    try:
        decoded = raw.decode("ascii") if raw else ""
    except UnicodeDecodeError:
        return False
    _user, colon, password = decoded.partition(":")
    return bool(colon) and decoded.isprintable() and not _placeholder(password)


def _char_class(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.islower() else 2


def _wordy(value: str) -> bool:
    """Identifiers, paths, URLs and phrases (`X-Request-Id`, `GITHUB_TOKEN`,
    `oauth2-client-credentials`, `prod/db/creds`): random strings switch between
    lower, upper and digits at almost every character, words rarely do (a capital
    starting a word is no switch), and words have vowels or separators."""
    if re.search(r"[^A-Za-z0-9._/:\- ]", value):
        return False  # symbols: a password, not an identifier
    if re.fullmatch(r"[0-9a-fA-F-]*[0-9][0-9a-fA-F-]*", value):
        return False  # hex and UUIDs
    letters = [c for c in value if c.isalpha()]
    if not letters:
        return False
    switches = sum(
        _char_class(a) != _char_class(b) and not (a.isupper() and b.islower())
        for a, b in itertools.pairwise(value)
        if a.isalnum() and b.isalnum()
    )
    vowels = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
    separators = sum(c in "._/:- " for c in value)
    return switches / len(value) < 0.2 and (vowels >= 0.25 or separators >= 2)


_DATE_OR_NUMBER = re.compile(r"[0-9.:+\-tzTZ/ ]+")
# Early outs: most assigned values in logs and code are plain names like these.
_NAME = re.compile(r"[a-z]+(?:[._/:-][a-z]+)*|[A-Z]+(?:[._/:-][A-Z]+)*")


def _generic_secret(value: str) -> bool:
    """`key = "value"`: high-entropy values only, so `password = "changeme"`, env
    references and identifiers stay."""
    if len(value) < 8 or _NAME.fullmatch(value) or _DATE_OR_NUMBER.fullmatch(value):
        return False
    return shannon_entropy(value) >= 3.0 and not _placeholder(value) and not _wordy(value)


def _url_password(value: str) -> bool:
    # A password in a connection string is a password even when weak; only
    # templates (`:password@`, `:${DB_PASS}@`, `:<pw>@`) are left alone.
    return not _placeholder(value) and not value.startswith(("$", "%", "{"))


_NON_EMAIL_TLDS: Final = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "mjs", "ts", "tsx",
        "jsx", "css", "scss", "py", "rb", "go", "rs", "java", "json", "yaml", "yml", "toml",
        "xml", "html", "md", "txt", "log", "lock", "gz", "zip", "tar",
    }
)  # fmt: skip
_EXAMPLE_DOMAINS: Final = ("example.com", "example.org", "example.net")
_EXAMPLE_TLDS: Final = ("example", "invalid", "test", "localhost")


def _email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    tld = domain.rsplit(".", 1)[-1]
    if tld in _NON_EMAIL_TLDS or tld in _EXAMPLE_TLDS:
        return False  # icon@2x.png, RFC 2606/6761 names
    if domain in _EXAMPLE_DOMAINS or domain.endswith(tuple("." + d for d in _EXAMPLE_DOMAINS)):
        return False
    labels = domain.split(".")
    return not local.startswith(".") and all(lb and lb[0] != "-" != lb[-1] for lb in labels)


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    groups = re.split(r"[ -]", value)
    seps = set(re.findall(r"[ -]", value))
    if len(seps) > 1 or not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    lengths = [len(g) for g in groups]
    shaped = (
        len(groups) == 1
        or lengths in ([4, 6, 5], [4, 6, 4])  # Amex, Diners
        or (all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4)
    )
    return shaped and luhn(digits)


# ISO 13616 lengths of the IBAN countries (SWIFT registry).
_IBAN_LENGTHS: Final = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(value: str) -> bool:
    iban = value.replace(" ", "")
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _ssn(value: str) -> bool:
    area, group, serial = value.split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False  # never issued (SSA)
    # 078-05-1120 was printed on a wallet insert and voided; 123-45-6789 is the
    # canonical example and was never issued.
    return value not in ("078-05-1120", "123-45-6789")


def _phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if value.count("(") != value.count(")"):
        return False
    return 8 <= digits <= 15 if value.startswith("+") else 10 <= digits <= 11


# --- the rules --------------------------------------------------------------

# Characters of the usual token alphabets, for the boundary checks.
_B = "A-Za-z0-9"


def _rx(pattern: str) -> re.Pattern[str]:
    # ASCII: \d, \w and \s mean what they mean to hyperscan, so both engines agree.
    return re.compile(pattern, re.ASCII)


def _after(literal: str, boundary: str = _B) -> str:
    """`literal` not preceded by a token character. The check comes after the
    literal so the regex still starts with it (SRE's fast prefix search)."""
    return f"{re.escape(literal)}(?<![{boundary}]{re.escape(literal)})"


# `name = value` in env files, YAML, JSON, code: the rest of the identifier, an
# optional closing quote (maybe JSON-escaped), the operator, an optional opening
# quote, then the value: a quoted one runs to its closing quote (a password with
# "," or ";" in it is redacted whole), a bare one up to a terminator.
_ASSIGN_HEAD = r"[a-z0-9_.-]{0,24}\\?[\"'`]?[ \t]{0,4}(?::=|=>|\?=|[=:])[ \t]{0,4}"
_BARE = r"[^\s\"'`,;&\\(){}\[\]<>|]"
_ASSIGN = (
    _ASSIGN_HEAD
    + r"\\?[\"'`]?(?P<secret>(?<=\")[^\"\r\n\\]{8,256}(?=\")|(?<=')[^'\r\n\\]{8,256}(?=')"
    + r"|(?<=\\\")[^\"\r\n\\]{8,256}(?=\\\")"  # JSON inside a string: \"value\"
    + f"|{_BARE}{{8,256}}"
    + r"(?=[\s\"'`,;&\\)}\]|]|\Z))"
)
_GITLAB: Final = (  # token types after "gl"
    "pat", "dt", "rt", "cbt", "ptt", "oas", "ft", "imt", "ffct", "soat", "agent", "wt",
)  # fmt: skip
_GENERIC_KEYWORDS: Final = ("key", "secret", "token", "pass", "pwd", "auth", "cred")
# The value's terminator ends the locator too, so hyperscan reports real
# assignments only (not every `key = something`), once each, with their start.
# (An unbounded value: hyperscan cannot track the start through {8,256}.)
_ASSIGN_HS = (
    "(?:" + "|".join(_GENERIC_KEYWORDS) + ")" + _ASSIGN_HEAD
    + r"(?:\\?\"[^\"\r\n\\]{8,}\\?\"|\\?'[^'\r\n\\]{8,}'"
    + r"|\\?[\"'`]?" + _BARE + r"{8,}(?:[\s\"'`,;&\\)}\]|]|\z))"
)  # fmt: skip

_PHONE = (
    # The first character is a charset (SRE scans for it in C) and the left
    # boundary is checked right after it; each branch then re-reads that character
    # with a lookbehind.
    r"[+(0-9](?<![\w+./-][+(0-9])(?:"
    r"(?<=\+)[1-9][0-9]{0,3}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){1,6}"  # +CC ...
    r"|(?<=\()[2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .-][0-9]{4}"  # (415) 555-0132
    r"|(?<=1)[ .-]?\(?[2-9][0-9]{2}\)?[ .-]?[2-9][0-9]{2}[ .-][0-9]{4}"  # 1-800-555-0199
    r"|(?<=[2-9])[0-9]{2}[ .-][2-9][0-9]{2}[ .-][0-9]{4}"  # 415-555-0132
    r"|(?<=0)[1-9](?:[ .][0-9]{2}){4}"  # FR 01 23 45 67 89
    r"|(?<=0)(?:[0-9]{2} [0-9]{4} [0-9]{4}|[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{4} [0-9]{6})"  # UK
    r")(?![\w-]|[.,][0-9])"
)
_PHONE_HS = (  # a prefix of each branch
    r"\+[1-9][0-9]{0,3}[ .-]?[(0-9]"
    r"|\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .-][0-9]{4}"
    r"|[2-9][0-9]{2}\)?[ .-]?[2-9][0-9]{2}[ .-][0-9]{4}"
    r"|0[1-9][ .][0-9]{2}[ .][0-9]{2}[ .][0-9]{2}[ .][0-9]{2}"
    r"|0(?:[0-9]{2} [0-9]{4} [0-9]{4}|[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{4} [0-9]{6})"
)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "private-key",
        "PEM private key block (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP), whole or truncated",
        _rx(
            r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:"
            # the whole block: the body cannot run past another key's dashes
            r"(?:[^-]|-(?!----)){1,20000}-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
            # no END in reach (cut output): as far as base64 and header lines go
            r"|(?:(?:\r?\n|\\r?\\n)"
            r"(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,20}: ?[^\r\n\\]{0,200}))+"
            r")"
        ),
        ("-----begin",),
        validate=_pem,
        max_len=20500,
        hs_pattern=r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY",
        hs_reach=121,
    ),
    Rule(
        "aws-access-key-id",
        "AWS access key id (AKIA long-term, ASIA temporary, ABIA, ACCA, A3T)",
        _rx(_after("A") + r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])"),
        ("akia", "asia", "abia", "acca", "a3t"),
        validate=_aws_key,
        max_len=20,
    ),
    Rule(
        "aws-secret-access-key",
        "AWS secret access key assigned to its name (aws_secret_access_key, SecretAccessKey)",
        _rx(
            r"secret(?:[_. -]?access|(?<=aws[_. -]secret)|(?<=awssecret))[_. -]?key"
            r"(?:[ \t]*\[[^\]\n]{0,40}\])?\\?[\"'`]?[ \t]{0,4}(?::=|=>|[=:])[ \t]{0,4}\\?[\"'`]?"
            r"(?P<secret>[a-z0-9/+]{40})(?![a-z0-9/+=])"
        ),
        ("secret",),
        group="secret",
        lowercase=True,
        validate=_aws_secret,
        max_len=120,
    ),
    Rule(
        "github-token",
        "GitHub token: personal (ghp_), OAuth (gho_), user-to-server (ghu_), "
        "server-to-server (ghs_), refresh (ghr_)",
        _rx(r"gh(?<![A-Za-z0-9]gh)[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        validate=_random_token(4),
        max_len=255,
    ),
    Rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token (github_pat_)",
        # 22 + "_" + 59 today; a little slack either side for format changes
        _rx(_after("github_pat_") + r"[A-Za-z0-9]{20,40}_[A-Za-z0-9]{50,200}(?![A-Za-z0-9_])"),
        ("github_pat_",),
        validate=_random_token(11),
        max_len=255,
    ),
    Rule(
        "gitlab-token",
        "GitLab token: personal/project/group (glpat-), deploy, runner, CI job, trigger, "
        "OAuth app, feed, incoming mail, feature flag, SCIM, agent, workspace",
        _rx(
            _after("gl")
            + f"(?:{'|'.join(_GITLAB)})-"
            + r"[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9_-]{1,50}){0,2}(?![A-Za-z0-9_-])"
        ),
        tuple(f"gl{p}-" for p in _GITLAB),
        validate=_random_token(6),
        max_len=410,
    ),
    Rule(
        "slack-token",
        "Slack token: bot (xoxb-), user (xoxp-), app (xoxa-), refresh (xoxr-, xoxe-), "
        "legacy (xoxs-, xoxo-), app-level (xapp-)",
        _rx(
            _after("x")
            + r"(?:ox[abeoprs]-[0-9]{1,16}-[A-Za-z0-9-]{10,250}"
            + r"|app-[0-9]-[A-Z0-9]{6,20}-[0-9]{6,20}-[A-Za-z0-9]{20,128})(?![A-Za-z0-9-])"
        ),
        ("xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xapp-"),
        validate=_random_token(5),
        max_len=270,
    ),
    Rule(
        "slack-webhook-url",
        "Slack incoming webhook / workflow trigger URL (hooks.slack.com/services/...)",
        _rx(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"[A-Za-z0-9_-]{8,20}/[A-Za-z0-9_-]{8,20}/[A-Za-z0-9_/+-]{16,100}(?![A-Za-z0-9_/+-])"
        ),
        ("hooks.slack.com",),
        validate=lambda v: not _placeholder(v.rsplit("/", 1)[-1]),
        max_len=180,
    ),
    Rule(
        "stripe-secret-key",
        "Stripe secret or restricted key (sk_live_, rk_live_, sk_test_, rk_test_)",
        # anchored on the rarer "k_"; `lead` puts the "s"/"r" back into the span
        _rx(r"k_(?<=(?<![A-Za-z0-9])[sr]k_)(?:live|test|prod)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])"),
        ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"),
        validate=lambda v: _random_token(8)(v) and len(v) >= 20,
        lead=1,
        max_len=260,
    ),
    Rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret (whsec_)",
        _rx(_after("whsec_") + r"[A-Za-z0-9+/=]{24,100}(?![A-Za-z0-9+/=])"),
        ("whsec_",),
        validate=_random_token(6),
        max_len=110,
    ),
    Rule(
        "anthropic-api-key",
        "Anthropic API, admin or OAuth key (sk-ant-api03-, sk-ant-admin01-, sk-ant-oat01-)",
        _rx(
            _after("sk-ant-", _B + "_-") + r"[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_-]{32,250}"
            r"(?![A-Za-z0-9_-])"
        ),
        ("sk-ant-",),
        validate=_mixed_token(7),
        max_len=275,
    ),
    Rule(
        "openai-api-key",
        "OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
        _rx(
            _after("sk-", _B + "_-") + r"(?!ant-)(?:(?:proj|svcacct|admin)-)?"
            r"[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-])"
        ),
        ("sk-",),
        validate=lambda v: _mixed_token(3)(re.sub(r"^sk-(?:proj|svcacct|admin)-", "sk-", v)),
        max_len=265,
    ),
    Rule(
        "google-api-key",
        "Google API key (AIza...)",
        _rx(_after("AIza", _B + "_-") + r"[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])"),
        ("aiza",),
        validate=_random_token(4),
        max_len=39,
    ),
    Rule(
        "jwt",
        "JSON Web Token: three base64url segments, the header JSON with an alg",
        _rx(
            _after("eyJ", _B + "_-")
            + r"[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}"
            + r"(?![A-Za-z0-9_-])"
        ),
        ("eyj",),
        validate=_jwt,
        max_len=12010,
        hs_pattern=r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2}",
        hs_reach=2010,
    ),
    Rule(
        "bearer-token",
        "HTTP bearer token (Authorization: Bearer ...)",
        _rx(
            _after("bearer", "a-z0-9") + r"[ \t]{1,16}(?P<secret>[a-z0-9._~+/-]{16,4096}=*)"
            r"(?![a-z0-9._~+/=-])"
        ),
        ("bearer",),
        group="secret",
        lowercase=True,
        validate=lambda v: not _placeholder(v) and not _wordy(v) and shannon_entropy(v) >= 3.0,
        max_len=4130,
        # hyperscan compiles a {16,4096} repeat for seconds; the first 16 will do
        hs_pattern=r"bearer[ \t]{1,16}[a-z0-9._~+/-]{16}",
        hs_reach=40,
    ),
    Rule(
        "basic-auth-header",
        "HTTP basic credentials (Authorization: Basic base64(user:password))",
        # base64 comes in fours: most words after "basic" are not a multiple of four
        _rx(
            _after("basic", "a-z0-9") + r"[ \t]+(?P<secret>(?:[a-z0-9+/]{4}){2,250}"
            r"(?:[a-z0-9+/]{2}==|[a-z0-9+/]{3}=)?)(?![a-z0-9+/=])"
        ),
        ("basic",),
        group="secret",
        lowercase=True,
        validate=_basic_auth,
        max_len=1020,
    ),
    Rule(
        "url-password",
        "Password in a URL or connection string (postgres://user:PASS@host, mysql, "
        "mongodb+srv, redis, amqp, https basic auth)",
        _rx(r"://[^\s:/?#@\"'<>]{0,128}:(?P<secret>[^\s/?#@\"'<>]{1,256})@(?=[a-z0-9\[_])"),
        ("://",),
        group="secret",
        lowercase=True,
        validate=_url_password,
        max_len=400,
    ),
    Rule(
        "generic-secret",
        "High-entropy value assigned to a key/secret/token/password/auth/credential name",
        _rx("(?:" + "|".join(_GENERIC_KEYWORDS) + ")" + _ASSIGN),
        _GENERIC_KEYWORDS,
        group="secret",
        lowercase=True,
        validate=_generic_secret,
        scanners=tuple(_rx(re.escape(k) + _ASSIGN) for k in _GENERIC_KEYWORDS),
        hs_pattern=_ASSIGN_HS,
        hs_som=True,
        max_len=320,
    ),
    Rule(
        "email",
        "Email address",
        _rx(
            # not the password in scheme://user:pass@host (but mailto:x@y is an address)
            r"(?<![A-Za-z0-9._%+/-])(?:(?<!:)|(?<=mailto:))[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
            r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
        ),
        ("@",),
        kind="pii",
        validate=_email,
        back=(
            _rx(r"@(?<=[A-Za-z0-9._%+-]@)(?=[A-Za-z0-9])"),
            _rx(r"[A-Za-z0-9._%+-]{0,65}"),  # one more than a local part: a longer run is none
        ),
        max_len=700,
    ),
    Rule(
        "us-ssn",
        "US social security number (AAA-GG-SSSS, never-issued ranges excluded)",
        # anchored on the first dash, `lead` covers the area number before it
        _rx(r"-(?<=(?<![\w-])[0-9]{3}-)[0-9]{2}-[0-9]{4}(?![\w-])"),
        ("-",),
        kind="pii",
        validate=_ssn,
        lead=3,
        max_len=8,
        hs_pattern=r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
    ),
    Rule(
        "credit-card",
        "Payment card number, 13-19 digits (spaces or dashes between groups), Luhn-checked",
        _rx(
            r"[2-6](?<![\w.,+-][2-6])(?:[0-9]{12,18}|[0-9]{3}(?:[ -][0-9]{4}){2,3}"
            r"(?:[ -][0-9]{1,4})?|[0-9]{3}[ -][0-9]{6}[ -][0-9]{4,5})(?![\w]|[ .,-][0-9])"
        ),
        tuple("23456"),
        kind="pii",
        validate=_card,
        max_len=24,
        anchors=("0" * 13, "0000-0000-0000", "0000-000000-0000"),
        skeleton=True,
        hs_pattern=(
            r"[2-6][0-9]{12}|[2-6][0-9]{3}[ -][0-9]{4}[ -][0-9]{4}"
            r"|3[0-9]{3}[ -][0-9]{6}[ -][0-9]{4}"
        ),
    ),
    Rule(
        "iban",
        "International bank account number, mod-97 checked",
        _rx(
            r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
            r"(?![A-Za-z0-9])"
        ),
        tuple(c.lower() for c in _IBAN_LENGTHS),  # the match starts with its country code
        kind="pii",
        validate=iban_valid,
        max_len=42,
        anchors=("AA00",),
        skeleton=True,
        hs_pattern=r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}",
    ),
    Rule(
        "phone-number",
        "Phone number: international (+CC), North American formats, FR and UK national",
        _rx(_PHONE),
        tuple("+(0123456789"),
        kind="pii",
        validate=_phone,
        max_len=30,
        # +CC, (NPA), NANP with separators, FR pairs, UK groups
        anchors=(
            "+0",
            "(000)",
            "000-000-0000",
            "00-00-00-00-00",
            "000-0000-0000",
            "0000-000-0000",
            "00000-000000",
        ),
        skeleton=True,
        reach=2,
        hs_pattern=_PHONE_HS,
    ),
)
RULES_BY_ID: Final = {r.id: r for r in RULES}


# --- the engine -------------------------------------------------------------

_ASCII_LOWER: Final = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
# Lookaheads at a window's end need a few characters past it.
_SLACK: Final = 16

Raw = list[tuple[int, int, int]]  # start, end, rule index


def _lower(text: str) -> str:
    # Same length as text, so spans carry over: str.lower() can grow a character
    # ("İ" -> "i̇"), so non-ASCII text is lowered for ASCII letters only.
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _confirm(rule: Rule, subject: str, lo: int, hi: int, end: int) -> Iterator[re.Match[str]]:
    """Matches of `rule.regex` starting in [lo, hi], as a full-text scan sees them.

    The search stops at `end`; a match reaching its last few characters may have
    been cut short there (or passed a lookahead that saw the cut), so it is
    matched again against the whole text."""
    n = len(subject)
    end = min(n, end)
    pos = max(lo, 0)
    if hi - pos < 8:  # a few starts: matching at each beats searching to `end`
        while pos <= hi:
            m = rule.regex.match(subject, pos)
            if m is not None:
                yield m
            pos = max(m.end(), pos + 1) if m is not None else pos + 1
        return
    while pos <= hi:
        m = rule.regex.search(subject, pos, end)
        if m is None:
            return
        if end < n and m.end() > end - _SLACK:
            full = rule.regex.match(subject, m.start())
            if full is None:
                pos = m.start() + 1
                continue
            m = full
        yield m
        pos = max(m.end(), m.start() + 1)


def _windows(hits: Sequence[int], before: int) -> Iterator[tuple[int, int]]:
    """Merged [lo, hi] ranges of match starts for sorted hit offsets."""
    lo = hi = -1
    for p in hits:
        if p - before > hi:
            if hi >= 0:
                yield lo, hi
            lo = p - before
        hi = p
    if hi >= 0:
        yield lo, hi


def _accept(rule: Rule, idx: int, m: re.Match[str], text: str, out: Raw) -> None:
    if rule.group is None:
        start, end = m.start() - rule.lead, m.end()
    else:
        start, end = m.span(rule.group)
    if end > start and (rule.validate is None or rule.validate(text[start:end])):
        out.append((start, end, idx))


def _around(
    rule: Rule, idx: int, hits: list[int], reach: int, subject: str, text: str, out: Raw
) -> None:
    hits.sort()
    for lo, hi in _windows(hits, reach):
        for m in _confirm(rule, subject, lo, hi, hi + rule.max_len + _SLACK):
            _accept(rule, idx, m, text, out)


_SKELETON: Final = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .-",
    b"0" * 10 + b"A" * 26 + b"a" * 26 + b"---",
)


@cache
def _run(char: str) -> re.Pattern[str]:
    return re.compile(re.escape(char) + "+")


def _skeleton(text: str) -> str:
    # One byte per character ("?" for non-ASCII), so offsets are str indices.
    return text.encode("ascii", "replace").translate(_SKELETON).decode("ascii")


def _scan_back(rule: Rule, idx: int, subject: str, text: str, out: Raw) -> None:
    assert rule.back is not None
    hits, before = rule.back
    for hit in hits.finditer(subject):
        p = hit.start()
        # `before` is bounded ({0,65} for email): a little more text than it can take
        run = before.match(subject[max(0, p - 80) : p][::-1])
        m = rule.regex.match(subject, p - (run.end() if run else 0))
        if m is not None:
            _accept(rule, idx, m, text, out)


def _scan_re(text: str, rules: Sequence[Rule]) -> Raw:
    out: Raw = []
    lower: str | None = None
    skeleton: str | None = None
    for idx, rule in enumerate(rules):
        if rule.lowercase and lower is None:
            lower = _lower(text)
        subject = lower if rule.lowercase and lower is not None else text
        if rule.back is not None:
            _scan_back(rule, idx, subject, text, out)
        elif rule.anchors:
            if rule.skeleton and skeleton is None:
                skeleton = _skeleton(text)
            haystack = skeleton if rule.skeleton and skeleton is not None else subject
            hits: list[int] = []
            for needle in rule.anchors:
                p = haystack.find(needle)
                while p >= 0:
                    hits.append(p)
                    run = _run(needle[0]).match(haystack, p) if rule.skeleton else None
                    p = haystack.find(needle, run.end() if run else p + 1)
            _around(rule, idx, hits, rule.reach, subject, text, out)
        else:
            for regex in rule.scanners or (rule.regex,):
                for m in regex.finditer(subject):
                    _accept(rule, idx, m, text, out)
    return out


# --- optional hyperscan locator ---------------------------------------------


class _Hyperscan:
    """All rules in one hyperscan database: one pass reports where each rule may
    match, and the rules' own regexes decide there."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan

        self._hs: Any = hyperscan
        ids = [i for i, r in enumerate(rules) if r.back is None]  # those scan by anchor
        self._som = [r.hs_som for r in rules]
        self.db: Any = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK) if ids else None
        if self.db is not None:
            self.db.compile(
                expressions=[(rules[i].hs_pattern or rules[i].regex.pattern).encode() for i in ids],
                ids=ids,
                elements=len(ids),
                flags=[
                    (
                        hyperscan.HS_FLAG_SOM_LEFTMOST
                        if rules[i].hs_som
                        else hyperscan.HS_FLAG_PREFILTER
                    )
                    | (hyperscan.HS_FLAG_CASELESS if rules[i].lowercase else 0)
                    for i in ids
                ],
            )
        self._local = threading.local()  # a scratch is single-threaded

    def locate(self, text: str, count: int) -> list[list[int]] | None:
        """Reported offsets per rule, or None when there are so many (text made of
        near-matches) that the per-report Python work would cost more than the
        pure engine's scans."""
        found: list[list[int]] = [[] for _ in range(count)]
        if self.db is None:
            return found
        budget = [max(4096, len(text) // 32)]
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self.db)

        som = self._som

        def on_match(rule: int, start: int, to: int, _flags: int, _ctx: object) -> bool:
            found[rule].append(start if som[rule] else to)
            budget[0] -= 1
            return budget[0] < 0  # True stops the scan

        try:
            # One byte per character ("?" for non-ASCII), so offsets are str indices.
            self.db.scan(text.encode("ascii", "replace"), match_event_handler=on_match,
                         scratch=scratch)  # fmt: skip
        except self._hs.ScanTerminated:
            return None
        return None if budget[0] < 0 else found


@cache
def _hyperscan(rules: tuple[Rule, ...]) -> _Hyperscan | None:
    try:
        return _Hyperscan(rules)
    except ImportError:
        return None


def _scan_hs(text: str, rules: tuple[Rule, ...], hs: _Hyperscan) -> Raw:
    located = hs.locate(text, len(rules))
    if located is None:
        return _scan_re(text, rules)
    out: Raw = []
    lower: str | None = None
    for idx, hits in enumerate(located):
        rule = rules[idx]
        if not hits and rule.back is None:
            continue
        if rule.lowercase and lower is None:
            lower = _lower(text)
        subject = lower if rule.lowercase and lower is not None else text
        if rule.back is not None:
            _scan_back(rule, idx, subject, text, out)
        elif rule.hs_som:
            for start in sorted(set(hits)):
                m = rule.regex.match(subject, start)
                if m is not None:
                    _accept(rule, idx, m, text, out)
        else:
            _around(rule, idx, hits, rule.hs_reach or rule.max_len, subject, text, out)
    return out


Engine = Literal["auto", "re", "hyperscan"]


def hyperscan_available() -> bool:
    return _hyperscan(RULES) is not None


def find_secrets(
    text: str, rules: Sequence[Rule] = RULES, *, engine: Engine = "auto"
) -> list[Finding]:
    """Every match of every rule, merged: ordered, non-overlapping spans. Where
    rules overlap the span is their union, named after the earliest rule in
    `rules` (the more specific one: RULES lists vendor rules before generic and PII).
    `engine="auto"` uses hyperscan when it is installed; the findings are the same."""
    if not text:
        return []
    rules = tuple(rules)
    hs = _hyperscan(rules) if engine != "re" else None
    if engine == "hyperscan" and hs is None:
        raise RuntimeError("hyperscan is not installed")
    raw = _scan_hs(text, rules, hs) if hs is not None else _scan_re(text, rules)
    raw.sort(key=lambda r: (r[0], -r[1], r[2]))
    merged: list[list[int]] = []
    for start, end, idx in raw:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2] = min(last[2], idx)
        else:
            merged.append([start, end, idx])
    return [Finding(s, e, rules[i].id) for s, e, i in merged]


# --- the corpus -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    secret: str  # the exact substring a true positive must redact; "" for a false one


def load_corpus(directory: Path) -> dict[str, tuple[list[Example], list[Example]]]:
    """tests/data/redaction/rules/<rule-id>.yaml: `true_positives` (a string that is
    all secret, or {text, secret}) and `false_positives` (strings)."""
    corpus: dict[str, tuple[list[Example], list[Example]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        tps = [
            Example(t, t) if isinstance(t, str) else Example(t["text"], t["secret"])
            for t in doc.get("true_positives", [])
        ]
        fps = [Example(t, "") for t in doc.get("false_positives", [])]
        corpus[path.stem] = (tps, fps)
    return corpus


def score_corpus(
    directory: Path, *, engine: Engine = "auto"
) -> dict[str, tuple[int, int, int, int]]:
    """Per rule file: (true positives its rule finds with the exact span, of how
    many, false positives the whole rule set flags, of how many)."""
    scores: dict[str, tuple[int, int, int, int]] = {}
    for rule_id, (tps, fps) in load_corpus(directory).items():
        rule = (RULES_BY_ID[rule_id],)
        hit = 0
        for ex in tps:
            start = ex.text.index(ex.secret)
            found = find_secrets(ex.text, rule, engine=engine)
            hit += found == [Finding(start, start + len(ex.secret), rule_id)]
        flagged = sum(bool(find_secrets(ex.text, engine=engine)) for ex in fps)
        scores[rule_id] = (hit, len(tps), flagged, len(fps))
    return scores
