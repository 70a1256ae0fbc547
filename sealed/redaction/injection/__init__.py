"""Prompt-injection screening for text from outside the mission (tool output,
fetched pages, ticket bodies) before it reaches the next model turn.

`InjectionDetector` is the pluggable interface (a model-based classifier can be
added beside it); `HeuristicDetector` needs no network and no model. It decodes
the usual obfuscations (normalise.py), then matches weighted patterns
(catalogue.py, the one place the weights are written), each feeding one of six
signals: instruction_override, role_impersonation, secret_request,
tool_call_instruction, exfiltration_link, hidden_text. A signal's weight is that
of its strongest match; signals combine as a noisy-OR, `score = 1 - prod(1 - w)`,
so weak hints add up while no single weak hint decides; a text is flagged when
`score >= 0.5`. `neutralise` (fence.py) fences a flagged text as untrusted data.

`InjectionVerdict.signals` holds signal names only, never text from the input.
"""

from sealed.redaction.injection.detector import HeuristicDetector
from sealed.redaction.injection.fence import FENCE_HEADER, is_fenced, neutralise
from sealed.redaction.injection.normalise import strip_hidden
from sealed.redaction.injection.verdict import (
    SIGNALS,
    THRESHOLD,
    InjectionDetector,
    InjectionVerdict,
    combine,
)

__all__ = [
    "FENCE_HEADER",
    "SIGNALS",
    "THRESHOLD",
    "HeuristicDetector",
    "InjectionDetector",
    "InjectionVerdict",
    "combine",
    "is_fenced",
    "neutralise",
    "strip_hidden",
]
