"""Formats no vendor owns: JWTs (also base64-wrapped), Kubernetes Secret
manifests, HTTP credentials (Bearer, Basic, other Authorization schemes, curl
-u, passwords in URLs) and the generic `name = value` assignments. Listed after
the vendor rules: where they overlap, the vendor names the span."""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue._build import B62, B64, after, longest, prefixed, rx, token
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import (
    basic_auth,
    generic_secret,
    jwt,
    jwt_base64,
    keyed_secret,
    placeholder,
    random_token,
    shannon_entropy,
    url_password,
    wordy,
)


def _opaque(value: str) -> bool:
    # a credential after a scheme word: random, not a template or a phrase
    return not placeholder(value) and not wordy(value) and shannon_entropy(value) >= 3.0


def _curl_user(value: str) -> bool:
    user, _, password = value.partition(":")
    # `-u sk_live_...:` (an API key as the user, no password) is a credential too
    return url_password(password) if password else random_token(0, 3.5)(user)


def _secret_data(value: str) -> bool:
    # some value in the block is real: not "", not a {{ template }} or $VAR
    values = (line.partition(":")[2].strip(" \t\"'") for line in value.splitlines())
    return any(len(v) >= 4 and not placeholder(v) and v[0] not in "{$" for v in values)


# `name = value` in env files, YAML, JSON, code: the rest of the identifier, an
# optional closing quote (maybe JSON-escaped), the operator, an optional opening
# quote, then the value: a quoted one runs to its closing quote (a password with
# "," or ";" in it is redacted whole), a bare one up to a terminator. Values run
# to 4096 characters (STS session tokens, service account JSON keys).
_ASSIGN_HEAD = r"[a-z0-9_.-]{0,24}\\?[\"'`]?[ \t]{0,4}(?::=|=>|\?=|[=:])[ \t]{0,4}"
_BARE = r"[^\s\"'`,;&\\(){}\[\]<>|]"
_ASSIGN = (
    _ASSIGN_HEAD
    + r"\\?[\"'`]?(?P<secret>(?<=\")[^\"\r\n\\]{8,4096}(?=\")|(?<=')[^'\r\n\\]{8,4096}(?=')"
    + r"|(?<=\\\")[^\"\r\n\\]{8,4096}(?=\\\")"  # JSON inside a string: \"value\"
    + f"|{_BARE}{{8,4096}}"
    + r"(?=[\s\"'`,;&\\)}\]|]|\Z))"
)
# "key" names a credential only beside a word that says so (api_key, apiKey,
# "API key", secret_key, private-key ...): every other key is the generic-key
# rule's, which leaves identifiers alone.
_CREDENTIAL_KEYS: Final = (
    "api", "access", "secret", "private", "priv", "signing", "sign", "encryption", "encrypt",
    "enc", "decryption", "master", "client", "app", "application", "license", "licence",
    "service", "auth", "account", "admin", "session", "hmac", "jwt", "ssh", "gpg", "pgp", "aes",
    "rsa", "crypto", "cipher", "root", "shared", "subscription", "consumer", "developer",
    "ingest", "write", "read", "deploy", "webhook", "cookie", "csrf", "otp", "totp",
    "recovery", "unseal", "wrapping",
)  # fmt: skip
# Keys that name a record, a file, a cache entry or a shortcut, not a credential:
# `idempotency_key`, `cache_key`, `sort_key`, `public_key`, `hotkey` ...
_LOOKUP_KEYS: Final = (
    "cache", "idempotency", "idempotence", "dedup", "dedupe", "deduplication", "sort",
    "partition", "primary", "foreign", "unique", "composite", "natural", "surrogate", "hash",
    "range", "row", "shard", "routing", "lookup", "object", "bucket", "public", "pub", "hot",
    "shortcut", "map", "dict", "group", "index", "i18n", "translation", "message", "event",
    "metric", "label", "tag", "order", "cursor", "page", "pagination", "continuation", "item",
    "entry", "record", "node", "field", "column", "attribute", "attr", "property", "prop",
    "state", "redis", "memo", "lock", "queue", "topic", "stream", "upload", "file", "path",
    "blob", "asset", "image", "list", "react", "dynamo", "s3", "search", "join", "dimension",
    "result",
)  # fmt: skip
_CREDENTIAL_KEY = (
    "key(?:" + "|".join(f"(?<={q}key)|(?<={q}[_. -]key)" for q in _CREDENTIAL_KEYS) + ")"
)
_LOOKUP_KEY = (
    # not inside a word (monkey, keyboard, keys) and not a lookup key
    "key(?<![a-z]key)(?![a-z])" + "".join(f"(?<!{q}[_. -]key)" for q in _LOOKUP_KEYS)
)
_GENERIC_KEYWORDS: Final = ("secret", "token", "pass", "pwd", "auth", "cred")
# A keyword as the pure engine's scanners and the regex read it: "auth" but not
# "author" or "authority" (`__author__ = 'Jane Doe'`), "authorization" still.
_KEYWORD_RX: Final = {k: k for k in _GENERIC_KEYWORDS} | {
    "auth": r"auth(?!or(?:s|ity|ities)?(?![a-z]))"
}
# The value's terminator ends the locator too, so hyperscan reports real
# assignments only (not every `key = something`), once each, with their start.
# (An unbounded value: hyperscan cannot track the start through {8,4096}.)
_ASSIGN_HS = (
    _ASSIGN_HEAD
    + r"(?:\\?\"[^\"\r\n\\]{8,}\\?\"|\\?'[^'\r\n\\]{8,}'"
    + r"|\\?[\"'`]?" + _BARE + r"{8,}(?:[\s\"'`,;&\\)}\]|]|\z))"
)  # fmt: skip

# Kubernetes Secret manifests: the indented lines under `data:` or `stringData:`
# (keys too: `.dockerconfigjson` or `DATABASE_URL` say nothing of a secret).
_LINE = r"(?P=i)[ \t][^\r\n]{1,8192}"  # deeper than `data:` itself
_DATA = r"(?P<i>[ \t]{0,40})(?:stringD|d)ata:[ \t]{0,8}\r?\n(?P<secret>" + _LINE
_DATA += r"(?:\r?\n" + _LINE + "){0,99})"
_DATA_HS = r"(?:stringD|d)ata:[ \t]{0,8}\r?\n[ \t]{1,41}[^\r\n]"
_KIND = r"kind:[ \t]{0,8}[\"']?Secret\b"
# a line of the same YAML document (metadata's last-applied-configuration
# annotation can run to kilobytes)
_SKIP = r"(?:\r?\n(?!---)[^\r\n]{0,4096})"
# A Secret holds up to 100 lines of up to 8 KiB: bounded, but past what
# longest() accepts for a token.
_SECRET_BLOCK: Final = 100 * 8200 + 30 * 4100


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "jwt",
        "JSON Web Token: three base64url segments, the header JSON with an alg",
        rx(
            after("eyJ", B62 + "_-")
            + r"[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}"
            + r"(?![A-Za-z0-9_-])"
        ),
        ("eyj",),
        validate=jwt,
        max_len=12010,
        hs_pattern=r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2}",
        hs_reach=2010,
    ),
    prefixed(
        "jwt-base64",
        "A JWT encoded again in base64 (ZXlK...): it must decode to a JWT with an alg",
        "ZXlK",
        r"[A-Za-z0-9+/]{40,8000}={0,2}",
        before=B64,
        end=B64 + "=",
        validate=jwt_base64,
        hs_body=r"[A-Za-z0-9+/]{16}",
    ),
    Rule(
        "kubernetes-secret-yaml",
        "Kubernetes Secret manifest: the data/stringData block of a `kind: Secret` above it",
        rx(_KIND + r"[\"']?[ \t]{0,8}" + _SKIP + r"{0,30}?\r?\n" + _DATA),
        ("kind:",),
        group="secret",
        validate=_secret_data,
        max_len=_SECRET_BLOCK,
        hs_pattern=_KIND,
        hs_reach=longest(_KIND),
    ),
    Rule(
        "kubernetes-secret-dump",
        "Kubernetes Secret as kubectl prints it: the data block, then `kind: Secret`",
        rx(r"(?<![^\r\n])" + _DATA + r"(?=" + _SKIP + r"{0,20}?\r?\n(?P=i)" + _KIND + ")"),
        ("data:",),
        group="secret",
        validate=_secret_data,
        max_len=_SECRET_BLOCK,
        # the pure engine finds "data:" and reads back over the indentation
        anchors=("data:", "Data:"),
        reach=46,
        hs_pattern=_DATA_HS,
        hs_reach=40 + longest(_DATA_HS),  # the indentation before `data:`, then the locator
    ),
    Rule(
        "bearer-token",
        "HTTP bearer token (Authorization: Bearer ...)",
        rx(
            after("bearer", "a-z0-9") + r"[ \t]{1,16}(?P<secret>[a-z0-9._~+/-]{16,4096}=*)"
            r"(?![a-z0-9._~+/=-])"
        ),
        ("bearer",),
        group="secret",
        lowercase=True,
        validate=_opaque,
        max_len=4130,
        # hyperscan compiles a {16,4096} repeat for seconds; the first 16 will do
        hs_pattern=r"bearer[ \t]{1,16}[a-z0-9._~+/-]{16}",
        hs_reach=40,
    ),
    Rule(
        "basic-auth-header",
        "HTTP basic credentials (Authorization: Basic base64(user:password))",
        # base64 comes in fours: most words after "basic" are not a multiple of four
        rx(
            after("basic", "a-z0-9") + r"[ \t]+(?P<secret>(?:[a-z0-9+/]{4}){2,250}"
            r"(?:[a-z0-9+/]{2}==|[a-z0-9+/]{3}=)?)(?![a-z0-9+/=])"
        ),
        ("basic",),
        group="secret",
        lowercase=True,
        validate=basic_auth,
        max_len=1020,
    ),
    token(
        "authorization-header",
        "HTTP Authorization header with another scheme (Token, SSWS, Api-Key ...) or none",
        # a header name, not the end of an identifier (AggregationAuthorization)
        r"authorization(?<![a-z0-9_]authorization)\\?[\"'`]?[ \t]{0,4}[:=][ \t]{0,4}\\?[\"'`]?"
        r"(?!bearer[ \t]|basic[ \t])"
        r"(?:[a-z][a-z0-9_-]{1,30}[ \t]{1,4})?(?P<secret>[a-z0-9._~+/=-]{16,4096})"
        r"(?![a-z0-9._~+/=-])",
        ("authorization",),
        group="secret",
        lowercase=True,
        validate=_opaque,
        hs=r"authorization\\?[\"'`]?[ \t]{0,4}[:=][ \t]{0,4}\\?[\"'`]?"
        r"(?:[a-z][a-z0-9_-]{1,30}[ \t]{1,4})?[a-z0-9._~+/=-]{16}",
    ),
    token(
        "curl-auth-user",
        "Credentials given to curl: -u / --user / -U / --proxy-user user:password",
        # a command may run on over escaped line ends
        r"curl[ \t](?:(?:[^\r\n]|\\\r?\n){0,400}?[ \t])?(?:-u|--user|-U|--proxy-user)"
        r"(?:=|[ \t]{1,5})"
        r"[\"']?(?P<secret>[^\s\"':]{1,100}:[^\s\"']{0,200})(?![^\s\"'])",
        ("curl",),
        group="secret",
        validate=_curl_user,
        # compiling the regex takes hyperscan two seconds; "curl " is rare enough
        hs=r"curl[ \t]",
    ),
    Rule(
        "url-password",
        "Password in a URL or connection string (postgres://user:PASS@host, mysql, "
        "mongodb+srv, redis, amqp, https basic auth)",
        rx(r"://[^\s:/?#@\"'<>]{0,128}:(?P<secret>[^\s/?#@\"'<>]{1,256})@(?=[a-z0-9\[_])"),
        ("://",),
        group="secret",
        lowercase=True,
        validate=url_password,
        max_len=400,
    ),
    Rule(
        "generic-secret",
        "High-entropy value assigned to a secret/token/password/auth/credential name or a "
        "credential key (api_key, private_key, ...)",
        rx("(?:" + "|".join((*_KEYWORD_RX.values(), _CREDENTIAL_KEY)) + ")" + _ASSIGN),
        (*_GENERIC_KEYWORDS, "key"),
        group="secret",
        lowercase=True,
        validate=generic_secret,
        scanners=tuple(rx(k + _ASSIGN) for k in (*_KEYWORD_RX.values(), _CREDENTIAL_KEY)),
        hs_pattern="(?:" + "|".join((*_GENERIC_KEYWORDS, "key")) + ")" + _ASSIGN_HS,
        hs_som=True,
        max_len=longest("(?:" + "|".join(_GENERIC_KEYWORDS) + ")" + _ASSIGN),
    ),
    Rule(
        "generic-key",
        "Random value assigned to any other key name (key, stripe_key); not a UUID, digest, "
        "path or key chord, and never under a lookup key (cache_key, idempotency_key)",
        rx(_LOOKUP_KEY + _ASSIGN),
        ("key",),
        group="secret",
        lowercase=True,
        validate=keyed_secret,
        max_len=longest("key" + _ASSIGN),
        # the name and its operator: a second start-of-match pattern beside
        # generic-secret's would cost hyperscan a millisecond per MiB
        hs_pattern="key" + _ASSIGN_HEAD,
        hs_reach=longest("key" + _ASSIGN_HEAD),
    ),
)
