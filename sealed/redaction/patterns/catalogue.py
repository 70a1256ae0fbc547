"""The pattern rules, kept the way gitleaks keeps its rules: an id, a regex,
lowercase `keywords` (every match contains one), an optional `validate`
(validators.py) and a corpus of true and false positives under
tests/data/redaction/rules/<id>.yaml.

Order matters: where matches of several rules overlap, the span is named after
the one listed first, so vendor rules come before the generic and PII ones.
"""

from __future__ import annotations

import re
from typing import Final

from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import (
    IBAN_LENGTHS,
    aws_key,
    aws_secret,
    basic_auth,
    card,
    email,
    generic_secret,
    iban_valid,
    jwt,
    mixed_token,
    pem,
    phone,
    placeholder,
    random_token,
    shannon_entropy,
    ssn,
    url_password,
    wordy,
)

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
        validate=pem,
        max_len=20500,
        hs_pattern=r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY",
        hs_reach=121,
    ),
    Rule(
        "aws-access-key-id",
        "AWS access key id (AKIA long-term, ASIA temporary, ABIA, ACCA, A3T)",
        _rx(_after("A") + r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])"),
        ("akia", "asia", "abia", "acca", "a3t"),
        validate=aws_key,
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
        validate=aws_secret,
        max_len=120,
    ),
    Rule(
        "github-token",
        "GitHub token: personal (ghp_), OAuth (gho_), user-to-server (ghu_), "
        "server-to-server (ghs_), refresh (ghr_)",
        _rx(r"gh(?<![A-Za-z0-9]gh)[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        validate=random_token(4),
        max_len=255,
    ),
    Rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token (github_pat_)",
        # 22 + "_" + 59 today; a little slack either side for format changes
        _rx(_after("github_pat_") + r"[A-Za-z0-9]{20,40}_[A-Za-z0-9]{50,200}(?![A-Za-z0-9_])"),
        ("github_pat_",),
        validate=random_token(11),
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
        validate=random_token(6),
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
        validate=random_token(5),
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
        validate=lambda v: not placeholder(v.rsplit("/", 1)[-1]),
        max_len=180,
    ),
    Rule(
        "stripe-secret-key",
        "Stripe secret or restricted key (sk_live_, rk_live_, sk_test_, rk_test_)",
        # anchored on the rarer "k_"; `lead` puts the "s"/"r" back into the span
        _rx(r"k_(?<=(?<![A-Za-z0-9])[sr]k_)(?:live|test|prod)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])"),
        ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"),
        validate=lambda v: random_token(8)(v) and len(v) >= 20,
        lead=1,
        max_len=260,
    ),
    Rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret (whsec_)",
        _rx(_after("whsec_") + r"[A-Za-z0-9+/=]{24,100}(?![A-Za-z0-9+/=])"),
        ("whsec_",),
        validate=random_token(6),
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
        validate=mixed_token(7),
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
        validate=lambda v: mixed_token(3)(re.sub(r"^sk-(?:proj|svcacct|admin)-", "sk-", v)),
        max_len=265,
    ),
    Rule(
        "google-api-key",
        "Google API key (AIza...)",
        _rx(_after("AIza", _B + "_-") + r"[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])"),
        ("aiza",),
        validate=random_token(4),
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
        validate=jwt,
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
        validate=lambda v: not placeholder(v) and not wordy(v) and shannon_entropy(v) >= 3.0,
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
        validate=basic_auth,
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
        validate=url_password,
        max_len=400,
    ),
    Rule(
        "generic-secret",
        "High-entropy value assigned to a key/secret/token/password/auth/credential name",
        _rx("(?:" + "|".join(_GENERIC_KEYWORDS) + ")" + _ASSIGN),
        _GENERIC_KEYWORDS,
        group="secret",
        lowercase=True,
        validate=generic_secret,
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
        validate=email,
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
        validate=ssn,
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
        validate=card,
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
        tuple(c.lower() for c in IBAN_LENGTHS),  # the match starts with its country code
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
        validate=phone,
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
