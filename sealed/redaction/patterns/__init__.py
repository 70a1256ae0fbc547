"""Pattern rules: secret-shaped strings and PII that no known value covers.

rule.py says what a rule is, catalogue.py lists them and validators.py holds
the checks they use (tuning a rule touches only those), engine.py finds them.
"""

from sealed.redaction.patterns.catalogue import PII_IDS, RULES, RULES_BY_ID
from sealed.redaction.patterns.engine import Engine, find_secrets, finder, hyperscan_available
from sealed.redaction.patterns.rule import Rule

__all__ = [
    "PII_IDS",
    "RULES",
    "RULES_BY_ID",
    "Engine",
    "Rule",
    "find_secrets",
    "finder",
    "hyperscan_available",
]
