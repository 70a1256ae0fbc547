"""The pattern rules, kept the way gitleaks keeps its rules: an id, a regex,
lowercase `keywords` (every match contains one), an optional `validate`
(validators.py) and a corpus of true and false positives under
tests/data/redaction/rules/<id>.yaml. One module per family of vendors;
_build.py holds the helpers they write rules with.

The catalogue covers the formats gitleaks' catalogue knows (a few vendors' ids
and secrets share one rule where their shapes do), the credentials this
runtime issues itself (OpenBao and Vault tokens, STS session tokens of any
length), and PII.

Order matters: where matches of several rules overlap, the span is named after
the one listed first, so vendor rules come before the generic and PII ones.
"""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue import (
    ai,
    cloud,
    code,
    commerce,
    comms,
    keys,
    pii,
    saas,
    web,
)
from sealed.redaction.patterns.rule import Rule

RULES: Final[tuple[Rule, ...]] = (
    *keys.RULES,
    *cloud.RULES,
    *code.RULES,
    *ai.RULES,
    *comms.RULES,
    *commerce.RULES,
    *saas.RULES,
    *web.RULES,
    *pii.RULES,
)
RULES_BY_ID: Final = {r.id: r for r in RULES}
# The personal-data rules: the only ones a profile may leave unmasked
# (`redaction: allow_pii`); a secret rule never is.
PII_IDS: Final = frozenset(r.id for r in RULES if r.kind == "pii")
