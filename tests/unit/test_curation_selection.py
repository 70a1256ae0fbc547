"""Which missions an export reads: `--since` as an age, a date or a time;
finished statuses only; the visibility query over the typed search
attributes that `sealed list` uses too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from sealed.curation import Selection, SinceError, parse_since
from sealed.models import MissionStatus

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("24h", NOW - timedelta(hours=24)),
        (" 7d ", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T09:15:00Z", datetime(2026, 3, 1, 9, 15, tzinfo=UTC)),
        ("2026-03-01T09:15:00", datetime(2026, 3, 1, 9, 15, tzinfo=UTC)),
        (
            "2026-03-01T09:15:00+02:00",
            datetime(2026, 3, 1, 9, 15, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_since(text, expected):
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days", "2026-13-01", "-3d", ""])
def test_a_bad_since_says_what_is_expected(text):
    with pytest.raises(SinceError, match=r"give an age \(24h, 7d\), a date"):
        parse_since(text, NOW)


def test_the_query_narrows_by_profile_status_and_close_time():
    selection = Selection(
        profile="support-agent",
        statuses=[MissionStatus.COMPLETED, MissionStatus.ABORTED],
        since=datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    assert selection.query() == (
        "WorkflowType = 'MissionWorkflow' AND ExecutionStatus = 'Completed'"
        " AND SealedProfile = 'support-agent'"
        " AND (SealedStatus = 'completed' OR SealedStatus = 'aborted')"
        " AND CloseTime >= '2026-03-01T09:00:00Z'"
    )
    assert Selection().query() == (
        "WorkflowType = 'MissionWorkflow' AND ExecutionStatus = 'Completed'"
        " AND (SealedStatus = 'completed')"
    )


def test_only_finished_statuses_and_checked_names():
    with pytest.raises(ValidationError, match="running: not finished"):
        Selection(statuses=[MissionStatus.RUNNING])
    with pytest.raises(ValidationError, match="should match pattern"):
        Selection(profile="x' OR '1'='1")
    assert Selection(statuses=["aborted", "aborted"]).statuses == [MissionStatus.ABORTED]
