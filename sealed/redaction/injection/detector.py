"""`HeuristicDetector`: the catalogue's rules matched over the normalised text,
URLs weighed for exfiltration, the signals combined; no network, no model."""

from __future__ import annotations

import re

from sealed.redaction.injection.catalogue import (
    LINK_CONVERSATION,
    LINK_IMAGE,
    LINK_OPAQUE,
    LINK_TEMPLATE,
    RULES,
)
from sealed.redaction.injection.normalise import normalise
from sealed.redaction.injection.rule import Rule
from sealed.redaction.injection.verdict import (
    EXFILTRATION_LINK,
    HIDDEN_TEXT,
    THRESHOLD,
    InjectionVerdict,
    combine,
)
from sealed.redaction.injection.words import CAPTURE_HOSTS

# Punctuation that can open a word ("<p>ignore", "'ignore", "`tool`") reads as a
# space in the words view (word rules write an apostrophe as [' ]); 1:1, so
# positions agree across views.
_WORDS_VIEW = str.maketrans(dict.fromkeys("'>\"(*[`<|/#=", " "))
_NEGATION_RE = re.compile(
    r"\b(?:never|not|cannot|(?:do|does|must|should|can|wo)n?[' ]?t)\b"  # "don t": words view
)


# URLs are found once, linearly, and their queries read in Python: regexes that
# look into URLs backtrack quadratically on adversarial input ("http://" * 10**4).
_URL_RE = re.compile(r"https?://[^\s\"'<>)\]]{1,4096}")
_IMG_SRC_RE = re.compile(r"src ?= ?[\"']?$")
_BASE64ISH_RE = re.compile(r"[a-z0-9+/_%-]{24,}=*")
_DATA_NAMES = frozenset(
    {
        *("data", "secret", "secrets", "token", "key", "apikey", "api_key", "password", "pass"),
        *("pwd", "payload", "exfil", "leak", "info", "conversation", "chat", "history"),
        *("prompt", "memory", "context", "cred", "creds", "credentials", "env", "session"),
        *("cookie", "ssn"),
    }
)
_CONVERSATION_RE = re.compile(
    r"history|conversation|chat|summary|messages|context|memory|previous"
    r"|user'?s?[_ -]?(?:data|e-?mail|info|password|token)"
)
_OPENERS = ("{", "<", "[", "$", "%7b", "%3c", "%5b")


def _link_weight(text: str) -> float:
    """exfiltration_link weight of the URLs in a text (the LINK_* weights)."""
    weight = 0.0
    for i, m in enumerate(_URL_RE.finditer(text)):
        if i >= 2000 or weight >= LINK_IMAGE:
            break
        url, start = m[0], m.start()
        host = url.split("//", 1)[1].split("/", 1)[0].split("?", 1)[0]
        markdown = (
            text.endswith(("](", "]( ", "](<"), 0, start)
            and "![" in text[max(0, start - 110) : start]
        )
        image = markdown or (
            _IMG_SRC_RE.search(text[max(0, start - 12) : start]) is not None
            and "<img" in text[max(0, start - 230) : start]
        )
        if image and any(host == h or host.endswith("." + h) for h in CAPTURE_HOSTS):
            return LINK_IMAGE
        after = text[m.end() : m.end() + 40]
        for param in url.partition("?")[2].split("&")[:50]:
            name, _, value = param.partition("=")
            if param.endswith("=") and after.startswith(("<", "[")) and url.endswith(param):
                value = after  # the URL stopped at the placeholder's "<"
            if value.startswith(_OPENERS):
                # A placeholder may run past the URL: "?h=<insert chat history>".
                tail = value + after.split(">")[0].split("}")[0]
                weight = max(
                    weight, LINK_CONVERSATION if _CONVERSATION_RE.search(tail) else LINK_TEMPLATE
                )
                if image:
                    return LINK_IMAGE
            elif markdown and (name in _DATA_NAMES or _BASE64ISH_RE.fullmatch(value)):
                return LINK_IMAGE
            elif len(value) >= 40 and _BASE64ISH_RE.fullmatch(value):
                weight = max(weight, LINK_OPAQUE)
    return weight


class _Present(dict[str, bool]):
    """`needle in text`, each needle looked up once per screen (gates share them)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, needle: str) -> bool:
        self[needle] = found = needle in self.text
        return found


def _matches(rule: Rule, text: str, present: _Present) -> bool:
    if not all(any(present[n] for n in group) for group in rule.needs):
        return False
    pos = 0
    while (m := rule.pattern.search(text, pos)) is not None:
        start = m.start()
        pos = start + 1
        if rule.negatable and _NEGATION_RE.search(text, max(0, start - 24), start):
            continue
        return True
    return False


class HeuristicDetector:
    """Weighted signals over normalised text; no network, no model."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold

    def screen(self, text: str) -> InjectionVerdict:
        # Three views of one normalised text, with the same length: "lines" for rules
        # anchored at line starts, "flat" (one line, so hard-wrapped phrases match)
        # for the rest, and "words" (flat with word-opening punctuation as spaces).
        lined, hidden = normalise(text)
        flat = lined.replace("\n", " ")
        views = {"lines": "\n" + lined[1:], "flat": flat, "words": flat.translate(_WORDS_VIEW)}
        present = _Present(flat)
        weights: dict[str, float] = {HIDDEN_TEXT: hidden} if hidden else {}
        if "http" in flat and (link := _link_weight(flat)):
            weights[EXFILTRATION_LINK] = link
        for rule in RULES:
            if weights.get(rule.signal, 0.0) < rule.weight and _matches(
                rule, views[rule.view], present
            ):
                weights[rule.signal] = rule.weight
        return combine(weights, self.threshold)
