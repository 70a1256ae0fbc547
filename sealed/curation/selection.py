"""Which missions an export reads: a Temporal visibility query over the
missions' typed search attributes (profile, status) and their close time,
like `sealed list`. The index only narrows the search: each mission's own
history says how it ended and under which profile, and that is what counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from temporalio.client import Client

from sealed.contract import SA_PROFILE, SA_STATUS, WORKFLOW_NAME
from sealed.models import MissionStatus
from sealed.types import ProfileName

_AGE = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class SinceError(ValueError):
    pass


def parse_since(text: str, now: datetime) -> datetime:
    """An age (`90m`, `24h`, `7d`, `2w`) before `now`, a date (midnight UTC) or
    an ISO 8601 time (UTC unless it names its zone)."""
    age = _AGE.match(text)
    if age:
        return now - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(
            f"not a time: {text!r}; give an age (24h, 7d), a date (2026-01-31) "
            "or a time (2026-01-31T09:00:00Z)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class Selection(BaseModel):
    model_config = ConfigDict(frozen=True)

    profile: ProfileName | None = None
    statuses: list[MissionStatus] = Field(default=[MissionStatus.COMPLETED], min_length=1)
    since: AwareDatetime | None = Field(default=None, description="finished at or after")

    @field_validator("statuses")
    @classmethod
    def _finished_only(cls, statuses: list[MissionStatus]) -> list[MissionStatus]:
        running = [s.value for s in statuses if not s.finished]
        if running:
            finished = ", ".join(s.value for s in MissionStatus if s.finished)
            raise ValueError(f"{', '.join(running)}: not finished; a status is one of {finished}")
        return list(dict.fromkeys(statuses))

    def query(self) -> str:
        # Every value is a closed set (statuses) or a checked name: nothing
        # here can close the quotes.
        clauses = [f"WorkflowType = '{WORKFLOW_NAME}'", "ExecutionStatus = 'Completed'"]
        if self.profile is not None:
            clauses.append(f"{SA_PROFILE.name} = '{self.profile}'")
        statuses = " OR ".join(f"{SA_STATUS.name} = '{s.value}'" for s in self.statuses)
        clauses.append(f"({statuses})")
        if self.since is not None:
            since = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            clauses.append(f"CloseTime >= '{since}'")
        return " AND ".join(clauses)

    def describe(self) -> str:
        parts = [f"profile {self.profile or 'any'}", "status " + "/".join(self.statuses)]
        if self.since is not None:
            parts.append(f"finished since {self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")
        return ", ".join(parts)


class Listed(BaseModel):
    """A mission the index matched, and the profile it says it ran under."""

    model_config = ConfigDict(frozen=True)

    mission_id: str
    run_id: str | None = None
    profile: str
    closed: datetime


async def matching(client: Client, selection: Selection) -> list[Listed]:
    """The missions the index matches, the oldest close first (a file's order
    does not change as later missions finish)."""
    listed = []
    async for execution in client.list_workflows(selection.query()):
        listed.append(
            Listed(
                mission_id=execution.id,
                run_id=execution.run_id,
                profile=execution.typed_search_attributes.get(SA_PROFILE) or "",
                closed=execution.close_time or execution.start_time,
            )
        )
    return sorted(listed, key=lambda m: (m.closed, m.mission_id))
