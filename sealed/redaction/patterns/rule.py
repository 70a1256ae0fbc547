"""`Rule`: one gitleaks-style pattern rule, and how each engine locates it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Validator = Callable[[str], bool]


# eq=False: a rule is itself, compared and hashed by identity. The engine caches
# its hyperscan database per tuple of rules, and hashing 188 rules field by
# field (compiled regexes, keyword tuples) on every call cost half a millisecond.
@dataclass(frozen=True, slots=True, eq=False)
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
    # Hyperscan locator when `regex` in prefilter mode is too loose or too slow to
    # compile or scan: it must match wherever `regex` finds a match `validate`
    # accepts, reporting an offset inside the match, at most `hs_reach` after its
    # start (default max_len); with `hs_som` it reports where the match starts,
    # and `regex.match` there decides.
    hs_pattern: str | None = None
    hs_reach: int = 0
    hs_som: bool = False
