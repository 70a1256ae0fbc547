"""Key material and secret stores: PEM private keys, age keys, 1Password,
HashiCorp Vault and OpenBao tokens (this runtime's own credential backend)."""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue._build import (
    B62,
    B64,
    B64URL,
    longest,
    prefixed,
    rx,
    token,
)
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import (
    bech32,
    long_token,
    pem,
    placeholder,
    random_token,
    shannon_entropy,
    vouched,
    wordy,
)


def _legacy_vault(value: str) -> bool:
    # OpenBao 2.x (and Vault before 1.10) issues `s.` + 24 base62: upper and
    # lower case both turn up in all but a few in a million; a dotted identifier
    # (`s.connectionPoolSettings`) reads as words.
    body = value[2:26]
    return (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and not wordy(body)
        and not placeholder(body)
        and shannon_entropy(body) >= 3.5
    )


_LEGACY: Final = (
    r"(?:token|vault|bao)[^\r\n]{0,40}?(?<![a-z0-9._/+-])"
    r"(?P<secret>[sr]\.[a-z0-9]{24}(?:\.[a-z0-9]{5})?)(?![a-z0-9_/+=-]|\.[a-z0-9])"
)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "private-key",
        "PEM private key block (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP), whole or truncated",
        rx(
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
    prefixed(
        "age-secret-key",
        "age encryption secret key (AGE-SECRET-KEY-1 + bech32, checksum verified)",
        "AGE-SECRET-KEY-1",
        r"[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        validate=vouched(bech32, random_token(16)),
    ),
    prefixed(
        "1password-secret-key",
        "1Password account secret key (A3-XXXXXX-...)",
        "A3-",
        r"[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        before=B62 + "-",
        end=B62 + "-",
        entropy=3.5,
    ),
    prefixed(
        "1password-service-account-token",
        "1Password service account token (ops_ + base64 JSON)",
        "ops_eyJ",
        r"[A-Za-z0-9+/]{250,4000}={0,3}",
        end=B64 + "=",
        validate=long_token(4.0),
        hs_body=r"[A-Za-z0-9+/]{16}",
    ),
    prefixed(
        "vault-service-token",
        "HashiCorp Vault 1.10+ service (hvs.) or recovery (hvr.) token",
        ("hvs.", "hvr."),
        r"[A-Za-z0-9_-]{24,400}",
        before=B64URL + ".",
        end=B64URL,
        validate=long_token(3.5),
        hs_body=r"[A-Za-z0-9_-]{24}",
    ),
    prefixed(
        "vault-batch-token",
        "Vault (hvb.) or OpenBao (b.AAAAAQ) batch token",
        ("hvb.", "b.AAAAAQ"),
        r"[A-Za-z0-9_-]{100,500}",
        before=B64URL + ".",
        end=B64URL,
        validate=long_token(4.0),
        hs_body=r"[A-Za-z0-9_-]{16}",
    ),
    token(
        "vault-legacy-token",
        "OpenBao or pre-1.10 Vault service/recovery token (s. or r. + 24 base62), "
        "after vault, bao or token on its line: a bare s.XXXX could be code",
        _LEGACY,
        ("token", "vault", "bao"),
        group="secret",
        lowercase=True,
        validate=_legacy_vault,
        split=True,
        # the token itself is rare enough, and much cheaper to compile
        hs=r"[sr]\.[a-z0-9]{24}",
        hs_reach=longest(_LEGACY),
    ),
)
