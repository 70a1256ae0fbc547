"""The plain types every boundary shares: names, durations, privilege levels,
and the strict base model (unknown keys are errors)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Privilege = Literal["low", "high", "critical"]
HIGH_PRIVILEGES: tuple[Privilege, ...] = ("high", "critical")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_duration(value: Any) -> Any:
    """Accept the forms people write in YAML ('90s', '15m', '2h') besides
    seconds and ISO 8601, which pydantic already understands."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
ToolName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")]
# A profile's name is also its OpenBao policies', token role's and search
# attribute's: one plain name, so a check and what it checks never disagree
# ("x/../support-agent" would be "support-agent" to OpenBao, not to a search).
ProfileName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")]
MissionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a mission file must not be ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ApproverName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._@-]{0,99}$")]
TimeoutAction = Literal["deny", "abort", "escalate"]
