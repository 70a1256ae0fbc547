"""Checks a rule's match must pass to count as a secret: entropy, checksums
(Luhn, IBAN mod-97, the CRC32 of GitHub and npm tokens, age's bech32), a JWT's
header, the shape of vendor tokens, the values lookup keys hold.

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
import string
import zlib
from collections import Counter
from typing import Final

from sealed.redaction.patterns.rule import Validator


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


def placeholder(value: str) -> bool:
    """Docs and templates, not secrets: markers, bare words, one repeated character."""
    low = value.lower()
    if value in _DOCUMENTED_EXAMPLES or low in _PLACEHOLDER_WORDS:
        return True
    if any(m in low for m in _PLACEHOLDER_MARKERS):
        return True
    return Counter(low).most_common(1)[0][1] > 0.6 * len(low) if low else True


def random_token(body_from: int = 0, min_entropy: float = 3.0) -> Validator:
    """A vendor token whose body (after its prefix) looks random, not a template."""

    def check(value: str) -> bool:
        body = value[body_from:]
        return not placeholder(value) and shannon_entropy(body) >= min_entropy

    return check


def wordlike(value: str) -> bool:
    """wordy() without digits: a random lowercase or hex value has few case
    switches and often two dashes, so wordy() alone reads a few in a hundred
    (`sdk-380dd215-...`) as identifiers; names rarely carry digits."""
    return wordy(value) and not any(c.isdigit() for c in value)


def random_value(min_entropy: float = 3.0) -> Validator:
    """A value named by its vendor (`heroku_api_key = ...`): random, not a word."""

    def check(value: str) -> bool:
        return (
            not placeholder(value) and not wordlike(value) and shannon_entropy(value) >= min_entropy
        )

    return check


# Where a long token's body is no placeholder: markers a random body never holds.
# (placeholder()'s short markers, "your" among them, turn up by chance in a few
# random bodies a thousand characters long.)
_TEMPLATE = re.compile(r"EXAMPLE|[xX]{6}|\.\.\.|\*{4}|[<>{}]|\$\{")


def long_token(min_entropy: float = 4.0) -> Validator:
    """Session tokens, macaroons, batch tokens: hundreds of random characters."""

    def check(value: str) -> bool:
        return not _TEMPLATE.search(value) and shannon_entropy(value) >= min_entropy

    return check


_BASE62: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase


def crc32_base62(value: str) -> bool:
    """GitHub's and npm's token format (github.blog, 2021-04-05): after the
    prefix, 30 random base62 characters and their CRC32 in base62, left-padded
    to 6."""
    body = value.rpartition("_")[2]
    if len(body) != 36 or not body.isascii() or not body.isalnum():
        return False
    checksum = 0
    for c in body[30:]:
        checksum = checksum * 62 + _BASE62.index(c)
    return checksum == zlib.crc32(body[:30].encode())


def vouched(checksum: Validator, otherwise: Validator) -> Validator:
    """A valid checksum proves a real token even where the heuristic doubts it
    (a random body can spell "your" or "123456789"); a failed one clears
    nothing: the project's tests and many docs use unchecksummed stand-ins,
    and a redactor's mistakes must fall on the side of redacting."""
    return lambda value: checksum(value) or otherwise(value)


_BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32(value: str) -> bool:
    """BIP-173 checksum (age keys: AGE-SECRET-KEY-1 + data + 6 check characters)."""
    hrp, _, data = value.lower().rpartition("1")
    if not hrp or len(data) < 6 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += [_BECH32.index(c) for c in data]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, gen in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= gen if top >> i & 1 else 0
    return chk == 1


def aws_key(value: str) -> bool:
    # AWS documents its sample keys with an EXAMPLE suffix; a real key is random
    # base32 (access key) or base64 (secret) and never spells it.
    return "EXAMPLE" not in value and not placeholder(value)


def aws_secret(value: str) -> bool:
    return aws_key(value) and shannon_entropy(value) >= 3.5


def mixed_token(body_from: int) -> Validator:
    """OpenAI/Anthropic keys: upper, lower and digits in a long body."""

    def check(value: str) -> bool:
        body = value[body_from:]
        return (
            len(body) >= 32
            and not placeholder(value)
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


def jwt(value: str) -> bool:
    if value in _DOCUMENTED_EXAMPLES:
        return False
    raw = _b64decode(value.split(".", 1)[0])
    try:
        header = json.loads(raw) if raw else None
    except ValueError:
        return False
    return isinstance(header, dict) and "alg" in header


def _b64text(segment: str) -> str:
    """A base64 (standard or URL-safe) segment's text, as far as it decodes:
    a token's JSON part may run on into its signature."""
    raw = _b64decode(segment[: len(segment) // 4 * 4])
    return raw.decode("utf-8", "replace") if raw else ""


def jwt_base64(value: str) -> bool:
    """A JWT encoded once more in base64 (a Kubernetes Secret's data, a header)."""
    inner = _b64text(value.rstrip("="))
    return inner.count(".") >= 2 and inner.isprintable() and jwt(inner)


def discord_bot_token(value: str) -> bool:
    """The first segment is the bot's user id (a snowflake) in base64."""
    user = _b64text(value.split(".", 1)[0] + "==")
    return user.isdigit() and 16 <= len(user) <= 20 and random_token()(value)


def json_base64(*fields: str) -> Validator:
    """Tokens whose body is base64 JSON (Grafana, Sentry, 1Password): it decodes
    to an object with these fields."""

    def check(value: str) -> bool:
        body = re.search(r"eyJ[A-Za-z0-9+/_-]*", value)
        text = _b64text(body.group()) if body else ""
        return all(f'"{f}"' in text for f in fields) and not placeholder(value)

    return check


_PEM_ARMOR = re.compile(r"-----[A-Z0-9 _-]+-----|[A-Za-z-]+:[^\n\\]*|\\[nrt]")


def pem(value: str) -> bool:
    # Keys pasted in docs have "..." or "<key>" bodies; a real one has base64.
    body = _PEM_ARMOR.sub("", value)
    return sum(c.isalnum() or c in "+/" for c in body) >= 40


def basic_auth(value: str) -> bool:
    raw = _b64decode(value.rstrip("="))
    try:
        decoded = raw.decode("ascii") if raw else ""
    except UnicodeDecodeError:
        return False
    _user, colon, password = decoded.partition(":")
    return bool(colon) and decoded.isprintable() and not placeholder(password)


def _char_class(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.islower() else 2


def wordy(value: str) -> bool:
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
# A shell, Make or Windows variable: `"$NEW_SECRET"`, `$(DB_PASS)`, `%NUGET_PASSWORD%`.
_REFERENCE = re.compile(r"\$[({]?[A-Za-z_][A-Za-z0-9_]*[)}]?|%[A-Za-z_][A-Za-z0-9_]*%")
# Early outs: most assigned values in logs and code are plain names like these.
_NAME = re.compile(r"[a-z]+(?:[._/:-][a-z]+)*|[A-Z]+(?:[._/:-][A-Z]+)*")


def generic_secret(value: str) -> bool:
    """`key = "value"`: high-entropy values only, so `password = "changeme"`, env
    references and identifiers stay."""
    if len(value) < 8 or _NAME.fullmatch(value) or _DATE_OR_NUMBER.fullmatch(value):
        return False
    if _REFERENCE.fullmatch(value):
        return False
    return shannon_entropy(value) >= 3.0 and not placeholder(value) and not wordy(value)


_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_DIGEST: Final = re.compile(r"[0-9a-f]{7,}|[0-9A-F]{7,}")  # git SHAs, MD5, SHA-256
_MODIFIER: Final = r"(?:ctrl|control|cmd|command|alt|option|opt|shift|meta|super|win|mod|hyper|fn)"
_KEYS: Final = rf"{_MODIFIER}(?:[+-]{_MODIFIER})*[+-][^\s+]{{1,12}}"
_CHORD: Final = re.compile(rf"{_KEYS}(?: {_KEYS})*", re.I)  # Ctrl+Shift+P, ctrl+k ctrl+c
_EXTENSION: Final = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")


def _path(value: str) -> bool:
    """uploads/2024/05/<uuid>/report.pdf, not a base64 secret with a "/" in it:
    base64 has no "." (so no file extension) and its pieces are not words."""
    if "/" not in value or "+" in value or "=" in value:
        return False
    if _EXTENSION.search(value):
        return True
    return all(
        _UUID.fullmatch(part) or _DIGEST.fullmatch(part) or part.isdigit() or wordy(part)
        for part in value.split("/")
        if part
    )


def identifier(value: str) -> bool:
    """What a lookup key holds: a UUID, a hex digest, a path, a key chord."""
    return bool(
        _UUID.fullmatch(value) or _DIGEST.fullmatch(value) or _CHORD.fullmatch(value)
    ) or _path(value)


def keyed_secret(value: str) -> bool:
    """`key = "value"` where the name says only "key" (`key`, `stripe_key`): a
    record's id, a file path or a shortcut is as likely as a credential, so
    identifiers are left alone; random strings are still redacted."""
    return generic_secret(value) and not identifier(value)


def url_password(value: str) -> bool:
    # A password in a connection string is a password even when weak; only
    # templates (`:password@`, `:${DB_PASS}@`, `:<pw>@`) are left alone.
    return not placeholder(value) and not value.startswith(("$", "%", "{"))


_NON_EMAIL_TLDS: Final = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "mjs", "ts", "tsx",
        "jsx", "css", "scss", "py", "rb", "go", "rs", "java", "json", "yaml", "yml", "toml",
        "xml", "html", "md", "txt", "log", "lock", "gz", "zip", "tar",
    }
)  # fmt: skip
_EXAMPLE_DOMAINS: Final = ("example.com", "example.org", "example.net")
_EXAMPLE_TLDS: Final = ("example", "invalid", "test", "localhost")


def email(value: str) -> bool:
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


def card(value: str) -> bool:
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
IBAN_LENGTHS: Final = {
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
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def ssn(value: str) -> bool:
    area, group, serial = value.split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False  # never issued (SSA)
    # 078-05-1120 was printed on a wallet insert and voided; 123-45-6789 is the
    # canonical example and was never issued.
    return value not in ("078-05-1120", "123-45-6789")


def phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if value.count("(") != value.count(")"):
        return False
    return 8 <= digits <= 15 if value.startswith("+") else 10 <= digits <= 11
