"""How the family modules write a rule: a vendor token with a literal prefix
(`prefixed`), a value known only by the vendor's name beside it (`assigned`),
or any other shape (`token`). Each sizes its locator windows from the regex
itself, so a rule cannot promise a shorter match than its regex allows."""

from __future__ import annotations

import dataclasses
import re
import re._parser  # the stdlib's own regex parser: a pattern's longest match
from typing import Final, Literal

from sealed.redaction.patterns.rule import Rule, Validator
from sealed.redaction.patterns.validators import random_token, random_value

# Alphabets of the usual token bodies, for the boundary checks.
B62: Final = "A-Za-z0-9"
B64URL: Final = r"A-Za-z0-9_\-"  # the dash escaped: more characters may follow
B64: Final = "A-Za-z0-9+/"

# A rule whose longest match is longer than this has an unbounded repeat: that
# would make its locator windows the whole text.
_LONGEST: Final = 25_000


def rx(pattern: str) -> re.Pattern[str]:
    # ASCII: \d, \w and \s mean what they mean to hyperscan, so both engines agree.
    return re.compile(pattern, re.ASCII)


def after(literal: str, boundary: str = B62) -> str:
    """`literal` not preceded by a token character. The check comes after the
    literal so the regex still starts with it (SRE's fast prefix search)."""
    return f"{re.escape(literal)}(?<![{boundary}]{re.escape(literal)})"


def longest(pattern: str) -> int:
    width = int(re._parser.parse(pattern, re.ASCII).getwidth()[1])
    if width > _LONGEST:
        raise ValueError(f"unbounded pattern: {pattern[:60]}")
    return width


def token(
    rule_id: str,
    description: str,
    pattern: str,
    keywords: tuple[str, ...],
    *,
    validate: Validator | None,
    kind: Literal["secret", "pii"] = "secret",
    group: str | None = None,
    lowercase: bool = False,
    lead: int = 0,
    hs: str | None = None,
    hs_reach: int | None = None,
    anchors: tuple[str, ...] = (),
    reach: int = 0,
    split: bool = False,
) -> Rule:
    """Any rule; `hs` is a hyperscan locator cheaper to compile than the regex
    (a {16,4096} repeat compiles for seconds): by default a prefix of every
    match, reported at its end; elsewhere `hs_reach` says how far its end may be
    from the match's start.
    `split`: the pattern is `(?:kw1|kw2|...)rest`, and the pure engine scans
    once per keyword (an alternation has no literal prefix for SRE to skip to)."""
    scanners: tuple[re.Pattern[str], ...] = ()
    if split:
        rest = pattern[pattern.index(")") + 1 :]
        scanners = tuple(rx(re.escape(k) + rest) for k in keywords)
    return Rule(
        rule_id,
        description,
        rx(pattern),
        keywords,
        kind=kind,
        group=group,
        validate=validate,
        lowercase=lowercase,
        lead=lead,
        max_len=lead + longest(pattern),
        scanners=scanners,
        anchors=anchors,
        reach=reach,
        hs_pattern=hs,
        hs_reach=(longest(hs) if hs_reach is None else hs_reach) if hs else 0,
    )


def prefixed(
    rule_id: str,
    description: str,
    prefixes: str | tuple[str, ...],
    body: str,
    *,
    before: str = B62,
    end: str = B62,
    keywords: tuple[str, ...] | None = None,
    validate: Validator | None = None,
    entropy: float = 3.0,
    hs_body: str | None = None,
) -> Rule:
    """A vendor token: a literal prefix (not preceded by a `before` character),
    then `body`, not followed by an `end` character. By default its body must
    look random (random_token), which leaves placeholders and docs alone."""
    literals = (prefixes,) if isinstance(prefixes, str) else prefixes
    rest = body + (f"(?![{end}])" if end else "")
    heads = [after(p, before) for p in literals]
    rule = token(
        rule_id,
        description,
        (heads[0] if len(heads) == 1 else "(?:" + "|".join(heads) + ")") + rest,
        keywords or tuple(dict.fromkeys(p.lower() for p in literals)),
        validate=validate or random_token(min(map(len, literals)), entropy),
        hs="(?:" + "|".join(map(re.escape, literals)) + ")" + hs_body if hs_body else None,
    )
    if len(heads) == 1:
        return rule
    # the pure engine: one literal-led scan per prefix (see assigned)
    return dataclasses.replace(rule, scanners=tuple(rx(h + rest) for h in heads))


# `<name>... = value` the way gitleaks' vendor rules read it, on the lowercased
# text: the rest of the name (spaces too: "Heroku API key: ..."), a closing
# quote, an operator (":", "=", ":=", "=>", "?=", "," between arguments, ">"
# in XML), an opening quote.
_NAME_TAIL: Final = (
    r"[a-z0-9_. \t-]{0,24}\\?[\"'`]?[ \t]{0,4}(?::=|=>|\?=|[=:,>])[ \t]{0,4}\\?[\"'`]?"
)
UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def assigned(
    rule_id: str,
    description: str,
    names: tuple[str, ...],
    value: str,
    *,
    keywords: tuple[str, ...] | None = None,
    validate: Validator | None = None,
    entropy: float = 3.0,
    end: str = "a-z0-9_+/=-",
) -> Rule:
    """A value only its vendor's name beside it identifies (`heroku_api_key =
    <uuid>`): `names` are lowercase regex fragments, `value` matches the
    lowercased value (the validator sees it as written). The value is redacted;
    it must look random (random_value) unless `validate` says otherwise."""
    tail = _NAME_TAIL + f"(?P<secret>{value})(?![{end}])"
    pattern = "(?:" + "|".join(names) + ")" + tail
    # hyperscan finds the name and its operator; the value's bounded repeats
    # would cost a hundred milliseconds of compiling per rule
    located = "(?:" + "|".join(names) + ")" + _NAME_TAIL
    return Rule(
        rule_id,
        description,
        rx(pattern),
        keywords or names,
        group="secret",
        validate=validate or random_value(entropy),
        lowercase=True,
        max_len=longest(pattern),
        # the pure engine: one literal-led scan per name (an alternation of
        # names has no literal prefix, and SRE would try every position)
        scanners=tuple(rx(name + tail) for name in names) if len(names) > 1 else (),
        hs_pattern=located,
        hs_reach=longest(located),
    )
