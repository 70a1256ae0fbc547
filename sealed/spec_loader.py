"""Load a mission spec from YAML, with errors that name the file, the field
and what was expected, so that nothing malformed is ever submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sealed.models import MissionSpec


class SpecError(ValueError):
    """A mission file that cannot be submitted; the message is for humans."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: invalid mission spec\n{lines}")


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(path, [f"cannot read file: {exc.strerror or exc}"]) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(path, [f"not valid YAML: {exc}"]) from exc


def _inline_script(data: dict[str, Any], path: Path) -> None:
    """`model.script` may name a YAML file beside the mission: inline it, so the
    workflow input is self-contained and any worker can run the mission."""
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("script"), str):
        return
    script_path = (path.parent / model["script"]).resolve()
    script = _read_yaml(script_path)
    if not isinstance(script, dict):
        raise SpecError(path, [f"model.script: {script_path} must hold a mapping"])
    model["script"] = script


def parse_mission(data: Any, path: Path) -> MissionSpec:
    if not isinstance(data, dict):
        raise SpecError(path, [f"expected a mapping at the top level, got {type(data).__name__}"])
    _inline_script(data, path)
    try:
        return MissionSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            got = f" (got {err['input']!r})" if err["type"] != "missing" else ""
            if err["type"] == "extra_forbidden":
                problems.append(f"{_field(err['loc'])}: unknown key")
                continue
            problems.append(f"{_field(err['loc'])}: {err['msg']}{got}")
        raise SpecError(path, problems) from exc


def load_mission(path: str | Path) -> MissionSpec:
    path = Path(path)
    return parse_mission(_read_yaml(path), path)
