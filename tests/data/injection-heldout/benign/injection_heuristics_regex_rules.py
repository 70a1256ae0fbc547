"""Heuristic pre-filter used by the moderation pipeline.

These regexes flag *candidate* prompt-injection phrases in user uploads so the
expensive classifier only runs on a subset. They are intentionally broad; false
positives are resolved downstream. See docs/moderation.md for the design.
"""

import re
from dataclasses import dataclass

PATTERNS: dict[str, re.Pattern[str]] = {
    "override": re.compile(r"\b(ignore|disregard|forget)\s+(all\s+)?(previous|prior|above)\s+(instructions|rules)\b", re.I),
    "role_swap": re.compile(r"\byou\s+are\s+now\s+(a|an|the)\b", re.I),
    "prompt_leak": re.compile(r"\b(reveal|print|repeat)\s+(your\s+)?(system|hidden)\s+prompt\b", re.I),
    "chatml": re.compile(r"<\|im_(start|end)\|>"),
    "md_image_exfil": re.compile(r"!\[[^\]]*\]\(https?://[^)]*\?[^)]*=", re.I),
}


@dataclass
class Hit:
    rule: str
    start: int
    end: int


def scan(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for name, pat in PATTERNS.items():
        for m in pat.finditer(text):
            hits.append(Hit(name, m.start(), m.end()))
    return hits


if __name__ == "__main__":
    sample = "Quarterly report attached. Revenue grew 12%."
    print(scan(sample))  # -> []
