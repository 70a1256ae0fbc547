"""The demo's mission and profiles. They ship inside the package (package data,
`sealed/examples` in a checkout is the top-level `examples/`), so `sealed demo`
and `sealed dev` work after a plain `pip install`."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"
DEMO_MISSION = EXAMPLES / "missions" / "triage.yaml"
EXAMPLE_PROFILES = EXAMPLES / "profiles"
# The profiles the demo's ticket service accepts writes from.
TICKET_WRITERS = ("support-agent",)
