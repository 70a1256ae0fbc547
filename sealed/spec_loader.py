"""Load mission specs and agent profiles from YAML, with errors that name the
file, the field and what was expected, so that nothing malformed is ever
submitted or registered."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sealed.directives.policies import DirectiveError
from sealed.directives.system import read_policies
from sealed.models import MissionSpec


class SpecError(ValueError):
    """A file that cannot be used; the message is for humans."""

    def __init__(self, path: Path, problems: list[str], what: str = "mission spec") -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: invalid {what}\n{lines}")


M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads `on`, `off`, `yes` and `no` as booleans, which turns a
    directive's `on:` key into `True`: only true/false are booleans here."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_MAX_GOT = 60


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_GOT else text[: _MAX_GOT - 3] + "..."


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


# A mission becomes a workflow input that every worker and history holds: a spec
# is small, and so is what its aliases expand to (a few hundred bytes of nested
# aliases would otherwise become megabytes, or gigabytes).
MAX_SPEC_BYTES = 256 * 1024
MAX_EXPANDED = 1024 * 1024


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """What the document weighs once every alias is expanded, computed over the
    shared nodes without expanding them."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 0  # a recursive alias adds nothing while it is being sized
    if isinstance(node, yaml.ScalarNode):
        size = len(str(node.value)) + 1
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, memo) for item in node.value)
    else:
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = size
    return size


def read_yaml(path: Path) -> Any:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(path, [f"cannot read file: {exc.strerror or exc}"]) from exc
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(path, [f"the file is over {MAX_SPEC_BYTES // 1024} KiB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(path, ["not a UTF-8 text file"]) from None
    loader = _Loader(text)  # a SafeLoader subclass: safe
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_EXPANDED:
            raise SpecError(
                path, [f"its aliases expand to over {MAX_EXPANDED // 1024} KiB: refusing"]
            )
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        # One line, with the file's own line numbers rather than pyyaml's banner.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = ", ".join(
            str(part)
            for part in (getattr(exc, "context", None), getattr(exc, "problem", None))
            if part
        )
        raise SpecError(path, [f"not valid YAML{where}: {what or exc}"]) from exc
    finally:
        loader.dispose()


def _inline_script(data: dict[str, Any], path: Path) -> None:
    """`model.script` may name a YAML file beside the mission: inline it, so the
    workflow input is self-contained and any worker can run the mission."""
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("script"), str):
        return
    # Beside the mission, nowhere else: a spec must not read (and echo in its
    # errors) whatever file on the submitting machine it names.
    script_path = _beside(path, model["script"], "model.script")
    try:
        script = read_yaml(script_path)
    except SpecError as exc:
        # Name the mission file and the field that points at the script.
        raise SpecError(path, [f"model.script: {script_path}: {p}" for p in exc.problems]) from exc
    if not isinstance(script, dict):
        raise SpecError(path, [f"model.script: {script_path} must hold a mapping"])
    model["script"] = script


def _beside(path: Path, name: str, field: str) -> Path:
    """A file a spec names: in the spec's own folder, nowhere else (a spec must
    not read, and echo in its errors, whatever file on this machine it names)."""
    folder = path.parent.resolve()
    target = (folder / name).resolve()
    if Path(name).is_absolute() or not target.is_relative_to(folder):
        raise SpecError(
            path, [f"{field}: must name a file in the spec's own folder (no '/' or '..')"]
        )
    return target


def _inline_directives(data: dict[str, Any], path: Path, what: str) -> None:
    """`directives.file` names a Cedar file beside the YAML: read into
    `policies`, so the spec carries them; either way `origin` says where each
    policy's line numbers count from."""
    directives = data.get("directives")
    if not isinstance(directives, dict):
        return
    name = directives.pop("file", None)
    if name is None:
        directives.setdefault("origin", f"{path} (directives.policies)")
        return
    if not isinstance(name, str) or "policies" in directives:
        raise SpecError(path, ["directives.file: a file name, instead of 'policies'"], what)
    cedar = _beside(path, name, "directives.file")
    try:
        directives["policies"] = read_policies(cedar)
    except DirectiveError as exc:
        raise SpecError(path, [f"directives.file: {p}" for p in exc.problems], what) from exc
    directives["origin"] = str(cedar)


def _mapping(data: Any, path: Path, what: str) -> dict[str, Any]:
    if data is None:
        raise SpecError(path, [f"the file is empty: expected a {what}"], what)
    if not isinstance(data, dict):
        got = type(data).__name__
        raise SpecError(path, [f"expected a mapping at the top level, got {got}"], what)
    return data


def validate_document(model: type[M], data: dict[str, Any], path: Path, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            got = f" (got {_got(err['input'])})" if err["type"] != "missing" else ""
            if err["type"] == "extra_forbidden":
                problems.append(f"{_field(err['loc'])}: unknown key")
                continue
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{_field(err['loc'])}: {msg}{got}")
        raise SpecError(path, problems, what) from exc


def parse_mission(data: Any, path: Path) -> MissionSpec:
    mapping = _mapping(data, path, "mission spec")
    _inline_script(mapping, path)
    _inline_directives(mapping, path, "mission spec")
    return validate_document(MissionSpec, mapping, path, "mission spec")


def load_mission(path: str | Path) -> MissionSpec:
    path = Path(path)
    return parse_mission(read_yaml(path), path)


def load_document(model: type[M], path: str | Path, what: str) -> M:
    """A YAML file holding one `model` (e.g. an agent profile)."""
    path = Path(path)
    mapping = _mapping(read_yaml(path), path, what)
    _inline_directives(mapping, path, what)
    return validate_document(model, mapping, path, what)
