"""Scoring against the corpora under tests/data, for the tests and `make bench`:
the pattern rules against their true and false positives, an injection detector
against attacks and benign outputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sealed.redaction.findings import Finding
from sealed.redaction.injection import InjectionDetector, InjectionVerdict
from sealed.redaction.patterns import RULES_BY_ID, Engine, find_secrets


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    secret: str  # the exact substring a true positive must redact; "" for a false one


def load_corpus(directory: Path) -> dict[str, tuple[list[Example], list[Example]]]:
    """tests/data/redaction/rules/<rule-id>.yaml: `true_positives` (a string that is
    all secret, or {text, secret}) and `false_positives` (strings)."""
    corpus: dict[str, tuple[list[Example], list[Example]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        tps = [
            Example(t, t) if isinstance(t, str) else Example(t["text"], t["secret"])
            for t in doc.get("true_positives", [])
        ]
        fps = [Example(t, "") for t in doc.get("false_positives", [])]
        corpus[path.stem] = (tps, fps)
    return corpus


def score_corpus(
    directory: Path, *, engine: Engine = "auto"
) -> dict[str, tuple[int, int, int, int]]:
    """Per rule file: (true positives its rule finds with the exact span, of how
    many, false positives the whole rule set flags, of how many)."""
    scores: dict[str, tuple[int, int, int, int]] = {}
    for rule_id, (tps, fps) in load_corpus(directory).items():
        rule = (RULES_BY_ID[rule_id],)
        hit = 0
        for ex in tps:
            start = ex.text.index(ex.secret)
            found = find_secrets(ex.text, rule, engine=engine)
            hit += found == [Finding(rule=rule_id, start=start, end=start + len(ex.secret))]
        flagged = sum(bool(find_secrets(ex.text, engine=engine)) for ex in fps)
        scores[rule_id] = (hit, len(tps), flagged, len(fps))
    return scores


@dataclass(frozen=True)
class CorpusResult:
    path: Path
    attack: bool
    verdict: InjectionVerdict

    @property
    def correct(self) -> bool:
        return self.verdict.flagged == self.attack


def corpus_metrics(
    detector: InjectionDetector, root: Path
) -> tuple[float, float, list[CorpusResult]]:
    """Recall over `root/attacks`, false-positive rate over `root/benign`, and
    every file's result, each file being one sample read as a tool output."""
    results = [
        CorpusResult(path, attack, detector.screen(path.read_text(encoding="utf-8")))
        for attack, folder in ((True, "attacks"), (False, "benign"))
        for path in sorted((root / folder).iterdir())
        if path.is_file()
    ]

    def flagged_rate(attack: bool) -> float:
        group = [r.verdict.flagged for r in results if r.attack is attack]
        return sum(group) / max(1, len(group))

    return flagged_rate(True), flagged_rate(False), results
