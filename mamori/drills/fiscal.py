"""Fiscal years (年度) and drill rounds: a Japanese municipality's year runs from 1 April to 31 March.

The policy's target is four drills a person a fiscal year, one a quarter; the plan page measures against it.
"""

import datetime
import zoneinfo

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
FISCAL_YEAR_START_MONTH = 4
TARGET_ROUNDS_PER_YEAR = 4
QUARTERS = 4


def fiscal_year_of(day: datetime.date) -> int:
    """The fiscal year a date belongs to: 2027-03-31 is in 2026年度, 2027-04-01 in 2027年度."""
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def today_in_japan() -> datetime.date:
    return timezone.now().astimezone(JST).date()


def current_fiscal_year() -> int:
    return fiscal_year_of(today_in_japan())


def fiscal_year_first_day(fiscal_year: int) -> datetime.date:
    return datetime.date(fiscal_year, FISCAL_YEAR_START_MONTH, 1)


def fiscal_year_last_day(fiscal_year: int) -> datetime.date:
    return fiscal_year_first_day(fiscal_year + 1) - datetime.timedelta(days=1)


def fiscal_year_bounds(fiscal_year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """The fiscal year as a half-open interval of aware datetimes [1 April 0:00 JST, next 1 April 0:00 JST)."""
    start = datetime.datetime.combine(fiscal_year_first_day(fiscal_year), datetime.time(), tzinfo=JST)
    end = datetime.datetime.combine(fiscal_year_first_day(fiscal_year + 1), datetime.time(), tzinfo=JST)
    return start, end


def round_label(fiscal_year: int, round_number: int) -> str:
    """「2026年度 第2回」."""
    return _("%(year)s年度 第%(round)s回") % {"year": fiscal_year, "round": round_number}


def fiscal_year_label(fiscal_year: int) -> str:
    return _("%(year)s年度") % {"year": fiscal_year}


def next_round_number(organization, fiscal_year: int) -> int:
    """The round number proposed for a new campaign: one after the highest of the fiscal year so far."""
    from mamori.drills.models import Campaign

    highest = Campaign.objects.filter(organization=organization, fiscal_year=fiscal_year).aggregate(
        highest=Max("round_number")
    )["highest"]
    return (highest or 0) + 1


def quarters_ended(fiscal_year: int, as_of: datetime.date) -> int:
    """How many quarters of the fiscal year have ended by ``as_of`` (0 before or during Q1, 4 after the year)."""
    months_elapsed = (as_of.year * 12 + as_of.month) - (fiscal_year * 12 + FISCAL_YEAR_START_MONTH)
    return max(0, min(QUARTERS, months_elapsed // 3))


def expected_rounds_so_far(fiscal_year: int, as_of: datetime.date) -> int:
    """The rounds a person should have received by ``as_of`` at the target's pace: one per ended quarter."""
    return quarters_ended(fiscal_year, as_of) * TARGET_ROUNDS_PER_YEAR // QUARTERS
