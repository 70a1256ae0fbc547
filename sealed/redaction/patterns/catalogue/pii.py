"""Personal data: email addresses, US social security numbers, payment cards,
IBANs, phone numbers. Listed last: a token that looks like a number is a token."""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue._build import rx
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import IBAN_LENGTHS, card, email, iban_valid, phone, ssn

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
        "email",
        "Email address",
        rx(
            # not the password in scheme://user:pass@host (but mailto:x@y is an address)
            r"(?<![A-Za-z0-9._%+/-])(?:(?<!:)|(?<=mailto:))[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
            r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
        ),
        ("@",),
        kind="pii",
        validate=email,
        back=(
            rx(r"@(?<=[A-Za-z0-9._%+-]@)(?=[A-Za-z0-9])"),
            rx(r"[A-Za-z0-9._%+-]{0,65}"),  # one more than a local part: a longer run is none
        ),
        max_len=700,
    ),
    Rule(
        "us-ssn",
        "US social security number (AAA-GG-SSSS, never-issued ranges excluded)",
        # anchored on the first dash, `lead` covers the area number before it
        rx(r"-(?<=(?<![\w-])[0-9]{3}-)[0-9]{2}-[0-9]{4}(?![\w-])"),
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
        rx(
            r"[2-6](?<![\w.,+-][2-6])(?:[0-9]{12,18}|[0-9]{3}(?:[ -][0-9]{4}){2,3}"
            r"(?:[ -][0-9]{1,4})?|[0-9]{3}[ -][0-9]{6}[ -][0-9]{4,5})(?![\w]|[ .,-][0-9])"
        ),
        tuple("23456"),
        kind="pii",
        validate=card,
        max_len=24,
        anchors=("0" * 13, "0000-0000-0000", "0000-000000-0000"),
        skeleton=True,
        # From the character before (or the text's start), as the lookbehind
        # reads it: a run of digits is one place a card may start, where
        # hyperscan otherwise follows one from every digit (0.5 ms per MiB of
        # logs). Any first digit in each shape: card() checks none.
        hs_pattern=(
            r"(?:^|[^0-9A-Za-z_.,+-])[2-6](?:[0-9]{12}|[0-9]{3}[ -][0-9]{4}[ -][0-9]{4}"
            r"|[0-9]{3}[ -][0-9]{6}[ -][0-9]{4})"
        ),
    ),
    Rule(
        "iban",
        "International bank account number, mod-97 checked",
        rx(
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
        rx(_PHONE),
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
