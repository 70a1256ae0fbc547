"""Argument provenance (Sealed V): where each value in a tool call came from.

Every string (or number) the model puts in a tool call's arguments is traced to
the first text of the mission it appeared in: the prompt or the profile
(trusted), an earlier tool output (untrusted: which tool, which call), or
nowhere (the model made it up). Directives decide on these facts, e.g. "an
e-mail recipient that came out of a web page needs approval".

The module runs inside the workflow, so it is pure and deterministic: no I/O,
no clock, no randomness, no order taken from a set or a hash.

Matching rules, and why:

- Normalisation. Every text and every value goes through the same function:
  Unicode NFKC, casefold, whitespace runs collapsed to one space, stripped.
  A model copies loosely (case, spacing, full-width letters); comparing
  normalised forms keeps a copied value recognisable without fuzzy matching.
- JSON. A text that parses as JSON is also indexed by its decoded string
  leaves, object keys and numbers (as their text): tool outputs are mostly
  JSON, and `a\\"b` or `\\u00e9` in the raw text would hide the value the model
  copies, which is the decoded one.
- Whole values. A value whose normalised text has at least 4 characters
  matches a source whose normalised text contains it. Shorter values ("yes",
  "10", "en") are in every text: attributing them would be noise, so they get
  no whole-value source. Unless it holds a salient part (a path like /x), a
  value under 4 characters gets sources [] (neither trusted, untrusted nor
  model). Only the first 64 KiB of a value are matched whole: that bounds
  the cost, and a value that long is judged mostly by its salient parts.
- Salient parts. The values that matter for harm are short pieces inside
  longer text: e-mail addresses; URLs and their hosts (the host on its own
  too, without "www.", so a URL the model built on a host from a web page is
  still traced to it); IBANs (spaces removed); runs of 6+ digits such as
  account or card numbers (separators " ", "-", "." removed); file paths
  (/etc/passwd, ~/.ssh/id_rsa, C:\\x). The same extraction runs over sources
  and values, and a part matches a source it was extracted from. Parts are
  extracted from the whole value, however long. An argument's `parts` names
  the kinds that matched a source, never the values.
- First appearance. A value or part belongs to the first source, in the order
  the texts were added, that has it: an address the user gave in the prompt
  stays trusted when a web page repeats it later. Different parts of one
  value can have different sources, and the value gets all of them.
- Model. A value gets a "model" source when one of its salient parts, or the
  value itself (4+ characters, no salient parts), appears in no source. The
  regexes see slightly different spans in a long text than in a piece cut
  from it (a digit run next to other digits), so a part that was not
  extracted from any source is not the model's when the whole value (not
  truncated) was found in a source: the part is inside that text.
- Arguments are walked through dicts and lists, the path joining keys and
  indices with "." ("recipients.0"), sorted by path; a container 32 levels
  down is taken as its JSON text (a bound on the walk, not on what counts).
  Booleans and None carry no provenance and are skipped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, Literal, Self
from urllib.parse import unquote

from pydantic import model_validator

from sealed.redaction.injection.normalise import strip_hidden
from sealed.types import Strict

SourceKind = Literal["prompt", "profile", "tool_output", "model"]
PartKind = Literal["email", "host", "iban", "number", "path", "url"]

MIN_WHOLE = 4
MAX_WHOLE = 64 * 1024
MAX_DEPTH = 32
# Text quoted from a source inside a longer value: each source's windows of
# SHINGLE characters at every STRIDE-th position are kept, so any copied run of
# SHINGLE + STRIDE characters holds one of them. Kept for the first
# MAX_SHINGLED characters of a mission's sources (a bound on its memory).
SHINGLE = 24
STRIDE = 16
MAX_SHINGLED = 4 * 1024 * 1024

_RANK: dict[SourceKind, int] = {"prompt": 0, "profile": 1, "tool_output": 2, "model": 3}
# The e-mail, URL and path patterns start with a literal ("@", "://", "/"),
# which re finds by a fast scan, and check what stands before it afterwards:
# a pattern starting with a character class is tried at every position, and
# one starting with a run ([\w.]+@) costs quadratic time on a long run
# without a match. Tool outputs can be megabytes.
_EMAIL = re.compile(r"@[\w-]+(?:\.[\w-]+)+")
_LOCAL = re.compile(r"[\w.+%-]{1,64}\Z")  # RFC 5321 caps a local part at 64
_URL = re.compile(r"://[^\s<>\"'`\\{}|^]+")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,31}\Z")
_WWW = re.compile(r"www\.(?<![\w.+/-]www\.)[^\s<>\"'`\\{}|^]+")
# A link written without its scheme: a host with a path (`evil.example/reset`).
_BARE = re.compile(r"(?<![\w.@/:-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}/[^\s<>\"'`\\{}|^]*")
_PATH = re.compile(r"(?:/(?<![\w.:/\\~-]/)|~/(?<![\w.:/\\~-]~/))[\w.@+-]+(?:/[\w.@+-]+)*")
_WINDOWS_PATH = re.compile(r":\\(?<=[a-z]:\\)(?<![\w.:/\\~-].:\\)[\w.@+$~-]+(?:\\[\w.@+$~-]+)*")
# Written with spaces, an IBAN comes in groups of four, where only the first
# (a bank code) may have no digit: that keeps the next word out of it.
_DIGITED = r"(?=[a-z]{0,3}[0-9])[a-z0-9]"
_IBAN = re.compile(
    rf"(?<![a-z0-9])[a-z]{{2}}[0-9]{{2}}(?:[a-z0-9]{{11,30}}"
    rf"| [a-z0-9]{{4}}(?: {_DIGITED}{{4}}){{1,6}}(?: {_DIGITED}{{1,4}})?)(?![a-z0-9])"
)
# Greedy from a run's first digit, so it never starts inside a run.
_NUMBER = re.compile(r"[0-9](?:[ .-]?[0-9]){5,}")
_SEPARATORS = str.maketrans("", "", " .-")
_AUTHORITY_END = re.compile(r"[/?#]")
_PORT = re.compile(r":[0-9]*$")
# Sentence punctuation after a URL or a path is not part of it.
_TRAILING = ".,;:!?)]}*'\""


class Source(Strict):
    kind: SourceKind
    tool: str | None = None
    call_id: str | None = None

    @model_validator(mode="after")
    def _tool_only_for_outputs(self) -> Self:
        named = self.tool is not None
        if named != (self.kind == "tool_output") or named != (self.call_id is not None):
            raise ValueError("a tool output names its tool and call id, and nothing else does")
        return self


class ArgumentProvenance(Strict):
    argument: str  # the value's path in the arguments: "body", "recipients.0"
    # Prompt, profile, tool outputs in the order they were added, then model.
    sources: list[Source]
    # Kinds only: the facts reach policies and audit events, values must not.
    parts: list[PartKind]


class Provenance(Strict):
    arguments: list[ArgumentProvenance]

    @property
    def untrusted_arguments(self) -> list[str]:
        return self._having("tool_output")

    @property
    def untrusted_tools(self) -> list[str]:
        return sorted({s.tool for a in self.arguments for s in a.sources if s.tool is not None})

    @property
    def model_arguments(self) -> list[str]:
        return self._having("model")

    @property
    def trusted_arguments(self) -> list[str]:
        return [
            a.argument
            for a in self.arguments
            if a.sources and all(s.kind in ("prompt", "profile") for s in a.sources)
        ]

    def _having(self, kind: SourceKind) -> list[str]:
        return [a.argument for a in self.arguments if any(s.kind == kind for s in a.sources)]


# Full stops a browser reads as "." in a host name, which NFKC leaves alone.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def normalise(text: str) -> str:
    # Hidden characters first: one zero-width space inside a copied address
    # must not make it the model's own (tool output is stripped of them too).
    # split() collapses and strips whitespace runs: it is the whole of the
    # whitespace step, several times faster than a regex substitution.
    visible = unicodedata.normalize("NFKC", strip_hidden(text)).translate(_DOTS)
    return " ".join(visible.casefold().split())


def salient_parts(text: str) -> list[tuple[PartKind, str]]:
    """The salient parts of a normalised text, sorted."""
    found: set[tuple[PartKind, str]] = set()
    for match in _EMAIL.finditer(text):
        if local := _LOCAL.search(text, max(0, match.start() - 64), match.start()):
            found.add(("email", local[0] + match[0]))
    urls = [
        scheme[0] + match[0]
        for match in _URL.finditer(text)
        if (scheme := _SCHEME.search(text, max(0, match.start() - 32), match.start()))
    ]
    found.update(("host", m[0].split("/", 1)[0].removeprefix("www.")) for m in _BARE.finditer(text))
    for url in [*urls, *(match[0] for match in _WWW.finditer(text))]:
        url = url.rstrip(_TRAILING)
        found.add(("url", url))
        if host := _host(url):
            found.add(("host", host))
    for match in _IBAN.finditer(text):
        iban = match[0].replace(" ", "")
        if 15 <= len(iban) <= 34:
            found.add(("iban", iban))
    found.update(("number", m[0].translate(_SEPARATORS)) for m in _NUMBER.finditer(text))
    found.update(("path", m[0].rstrip(_TRAILING)) for m in _PATH.finditer(text))
    found.update(
        ("path", text[m.start() - 1] + m[0].rstrip(_TRAILING)) for m in _WINDOWS_PATH.finditer(text)
    )
    return sorted(found)


def _host(url: str) -> str:
    authority = _AUTHORITY_END.split(url.split("://", 1)[-1], maxsplit=1)[0]
    host = _PORT.sub("", authority.rpartition("@")[2]).rstrip(".")
    return host.removeprefix("www.")


class ProvenanceIndex:
    """Grows as the mission goes on, inside the workflow.

    Each text is normalised and its salient parts extracted once, when added;
    tracing a call then costs a dict lookup per part and a substring search
    per source for each whole value.
    """

    def __init__(self) -> None:
        self._sources: list[Source] = []
        # The normalised text, and its decoded JSON leaves if they differ from
        # it, joined by "\n", which normalisation never leaves in a text: a
        # value cannot match across two leaves.
        self._texts: list[str] = []
        self._first: dict[tuple[PartKind, str], int] = {}
        self._shingles: dict[str, int] = {}
        self._shingled = 0

    def add_trusted(self, text: str, kind: Literal["prompt", "profile"]) -> None:
        self._add(text, Source(kind=kind))

    def add_output(self, text: str, tool: str, call_id: str) -> None:
        self._add(text, Source(kind="tool_output", tool=tool, call_id=call_id))

    def trace(self, arguments: dict[str, Any]) -> Provenance:
        leaves = sorted(_leaves(arguments, "", 0), key=lambda leaf: leaf[0])
        return Provenance(arguments=[self._trace(path, text) for path, text in leaves])

    def _add(self, text: str, source: Source) -> None:
        index = len(self._sources)
        raw = normalise(text)
        decoded = "\n".join(normalise(leaf) for leaf in _json_leaves(text))
        self._sources.append(source)
        # Without an escape in the JSON, every decoded string is in the raw
        # text verbatim: searching both would double each trace's cost.
        self._texts.append(f"{raw}\n{decoded}" if decoded and "\\" in text else raw)
        # The decoded leaves hold every part the raw JSON does, unescaped.
        for part in salient_parts(decoded or raw):
            self._first.setdefault(part, index)
        text = self._texts[-1][: max(0, MAX_SHINGLED - self._shingled)]
        self._shingled += len(text)
        for start in range(0, len(text) - SHINGLE + 1, STRIDE):
            self._shingles.setdefault(text[start : start + SHINGLE], index)

    def _trace(self, path: str, raw: str) -> ArgumentProvenance:
        value = normalise(raw)
        parts = salient_parts(value)
        if "%" in raw:
            # A value percent-encoded into a URL is the value all the same.
            parts = sorted({*parts, *salient_parts(normalise(unquote(raw)))})
        whole = self._first_containing(value[:MAX_WHOLE]) if len(value) >= MIN_WHOLE else None
        covered = whole is not None and len(value) <= MAX_WHOLE
        found = [] if whole is None else [whole]
        if whole is None and len(value) >= SHINGLE + STRIDE:
            found += self._quoted(value[:MAX_WHOLE])
        kinds: set[PartKind] = set()
        model = not parts and len(value) >= MIN_WHOLE and whole is None
        for part in parts:
            first = self._first.get(part)
            if first is not None:
                found.append(first)
                kinds.add(part[0])
            elif not covered:
                model = True
        sources: list[Source] = []
        for i in sorted(set(found), key=lambda i: (_RANK[self._sources[i].kind], i)):
            if self._sources[i] not in sources:
                sources.append(self._sources[i])
        if model:
            sources.append(Source(kind="model"))
        return ArgumentProvenance(argument=path, sources=sources, parts=sorted(kinds))

    def _quoted(self, value: str) -> list[int]:
        """The sources a run of the value was copied from."""
        windows = (value[i : i + SHINGLE] for i in range(len(value) - SHINGLE + 1))
        return sorted({found for w in windows if (found := self._shingles.get(w)) is not None})

    def _first_containing(self, value: str) -> int | None:
        return next((i for i, text in enumerate(self._texts) if value in text), None)


def _leaves(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    """(path, text) for every string or number under value."""
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        yield path, _json_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            # A key can carry a value (an address, a number) as its item can;
            # one that does not is the tool's vocabulary, nobody's data.
            if salient_parts(normalise(str(key))):
                yield f"{child}#key", str(key)
            yield from _leaves(item, child, depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}.{i}" if path else str(i), depth + 1)
    elif (text := _scalar_text(value)) is not None:
        yield path, text


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:
            # Python refuses decimal text past 4300 digits; hex still lets the
            # value count as one nobody wrote down.
            return format(value, "x")
    if isinstance(value, float):
        # 1500.0 is the 1500 the prompt wrote.
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        # Too deep for the encoder, cyclic, or not JSON: its scalars still count.
        return " ".join(_flatten(value, keys=False))


def _json_leaves(text: str) -> list[str]:
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return []
    return list(_flatten(decoded, keys=True))


def _flatten(value: Any, *, keys: bool) -> Iterator[str]:
    """Every scalar under value, without recursion (the depth is the input's)
    and visiting each container once (a cycle must not loop forever)."""
    stack = [value]
    seen: set[int] = set()  # membership only: its order is never used
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                children = [*item.keys(), *item.values()] if keys else list(item.values())
            else:
                children = list(item)
            stack.extend(reversed(children))
        elif (text := _scalar_text(item)) is not None:
            yield text
