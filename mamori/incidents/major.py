"""The major-incident rule (重大インシデント) counted for the KGI.

A case is major when it involves at least ``INCIDENTS_MAJOR_RECORDS`` personal records (default 1,000) or a
service stop of at least ``INCIDENTS_MAJOR_OUTAGE_HOURS`` (default 24 h). An outage still going on counts up
to ``now``; the flag is recomputed by every action that changes the case.
"""

import datetime

from django.conf import settings


def rule() -> dict[str, str | int]:
    """The two thresholds as pages word them: 「個人情報 1,000 件以上」「サービス停止 24 時間以上」."""
    return {"records": f"{settings.INCIDENTS_MAJOR_RECORDS:,}", "hours": settings.INCIDENTS_MAJOR_OUTAGE_HOURS}


def outage_duration(
    started_at: datetime.datetime | None, ended_at: datetime.datetime | None, now: datetime.datetime
) -> datetime.timedelta | None:
    """How long the service stop lasted (or has lasted so far); None when there was none."""
    if started_at is None:
        return None
    return max((ended_at or now) - started_at, datetime.timedelta(0))


def major_reasons(
    records_count: int,
    outage_started_at: datetime.datetime | None,
    outage_ended_at: datetime.datetime | None,
    now: datetime.datetime,
) -> list[str]:
    """Which of the two major-incident criteria hold: "records", "outage" (empty: not major)."""
    reasons = []
    if records_count >= settings.INCIDENTS_MAJOR_RECORDS:
        reasons.append("records")
    outage = outage_duration(outage_started_at, outage_ended_at, now)
    if outage is not None and outage >= datetime.timedelta(hours=settings.INCIDENTS_MAJOR_OUTAGE_HOURS):
        reasons.append("outage")
    return reasons


def is_major(
    records_count: int,
    outage_started_at: datetime.datetime | None,
    outage_ended_at: datetime.datetime | None,
    now: datetime.datetime,
) -> bool:
    return bool(major_reasons(records_count, outage_started_at, outage_ended_at, now))
