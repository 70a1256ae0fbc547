"""`sealed redact`: the redactor and the injection screen on stdin, for people
and for scanning datasets in bulk (`--jsonl`)."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sealed.redaction.injection import HeuristicDetector
from sealed.redaction.known import KnownValues, fingerprint
from sealed.redaction.redactor import Redactor


def _known_values(path: Path | None) -> KnownValues | None:
    """`name=value` lines; fingerprinted under a key of this process only."""
    if path is None:
        return None
    key = secrets.token_bytes(32)
    fingerprints = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{path}:{number}: expected name=value")
        try:
            fingerprints += fingerprint(key, name.strip(), value)
        except ValueError as exc:
            raise typer.BadParameter(f"{path}:{number}: {exc}") from exc
    return KnownValues(key, fingerprints)


def _result(text: str, redactor: Redactor, detector: HeuristicDetector) -> dict[str, Any]:
    redaction = redactor.redact(text)
    verdict = detector.screen(redaction.text)
    return {
        "text": redaction.text,
        "findings": [f.model_dump() for f in redaction.findings],
        "injection": {
            "flagged": verdict.flagged,
            "score": verdict.score,
            "signals": list(verdict.signals),
        },
    }


def redact(
    known: Annotated[
        Path | None, typer.Option("--known", help="file of name=value lines to mask", exists=True)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="text, findings and injection")] = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help='one {"text": ...} object per input line')
    ] = False,
) -> None:
    """Redact stdin: known values in any encoding, secret-shaped strings, PII."""
    redactor = Redactor(_known_values(known))
    detector = HeuristicDetector()
    if not jsonl:
        text = sys.stdin.read()
        if as_json:
            typer.echo(json.dumps(_result(text, redactor, detector)))
        else:
            sys.stdout.write(redactor.redact(text).text)
        return
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
        except (ValueError, KeyError, TypeError) as exc:
            typer.secho(f'line {number}: expected {{"text": ...}}: {exc}', err=True, fg="red")
            raise typer.Exit(2) from exc
        typer.echo(json.dumps(_result(str(text), redactor, detector)))
