"""The sending window of a campaign: business days and hours in JST, and each person's spread send time.

Pure functions over dates and times (no database). Japan has no daylight saving time, so a JST wall-clock
time maps to exactly one instant and business minutes can be counted by plain arithmetic.

A business day is a weekday that is neither a national holiday (the maintained ``holidays`` package) nor
one of the administrative closing days 12/29–1/3 (行政機関の休日), when ward offices are closed too.
"""

import bisect
import datetime
import functools
import math
import random
import zoneinfo
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import holidays
from django.utils.translation import gettext as _

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
DEFAULT_HOURS_START = datetime.time(9, 0)
DEFAULT_HOURS_END = datetime.time(17, 0)
# 行政機関の休日に関する法律 第1条: 12月29日から翌年1月3日まで.
YEAR_END_CLOSING_DAYS = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})
MINUTE = datetime.timedelta(minutes=1)


@functools.cache
def _national_holidays(year: int) -> holidays.HolidayBase:
    return holidays.Japan(years=year)


def closing_reason(day: datetime.date) -> str | None:
    """Why ``day`` is not a business day (「勤労感謝の日」「土曜日」「年末年始」), or None if it is one."""
    holiday = _national_holidays(day.year).get(day)
    if holiday:
        return str(holiday)
    if (day.month, day.day) in YEAR_END_CLOSING_DAYS:
        return _("年末年始（行政機関の休日）")
    if day.weekday() == 5:
        return _("土曜日")
    if day.weekday() == 6:
        return _("日曜日")
    return None


def is_business_day(day: datetime.date) -> bool:
    return closing_reason(day) is None


def _days(starts_on: datetime.date, ends_on: datetime.date):
    return (starts_on + datetime.timedelta(days=offset) for offset in range((ends_on - starts_on).days + 1))


def business_days(starts_on: datetime.date, ends_on: datetime.date) -> list[datetime.date]:
    """The business days from ``starts_on`` to ``ends_on``, both included."""
    return [day for day in _days(starts_on, ends_on) if is_business_day(day)]


def closed_weekdays(starts_on: datetime.date, ends_on: datetime.date) -> list[tuple[datetime.date, str]]:
    """Weekdays in the range with no sending and why (holidays, 年末年始): weekends go without saying."""
    closed = ((day, closing_reason(day)) for day in _days(starts_on, ends_on) if day.weekday() < 5)
    return [(day, reason) for day, reason in closed if reason]


def _ceil_to_minute(moment: datetime.datetime) -> datetime.datetime:
    floored = moment.replace(second=0, microsecond=0)
    return floored if floored == moment else floored + MINUTE


@dataclass(frozen=True)
class SendingWindow:
    """Dates (both included) and the daily sending hours [hours_start, hours_end) in JST."""

    starts_on: datetime.date
    ends_on: datetime.date
    hours_start: datetime.time = DEFAULT_HOURS_START
    hours_end: datetime.time = DEFAULT_HOURS_END

    def errors(self) -> list[str]:
        """What is wrong with the window, in Japanese; empty when it can be used."""
        problems = []
        if self.ends_on < self.starts_on:
            problems.append(_("終了日は開始日と同じか、それより後の日にしてください。"))
        if self.hours_start >= self.hours_end:
            problems.append(_("送信開始時刻は送信終了時刻より前にしてください。"))
        if self.ends_on >= self.starts_on and not business_days(self.starts_on, self.ends_on):
            problems.append(_("期間中に送信できる日（土日・祝日・年末年始を除く平日）がありません。"))
        return problems

    def intervals(self, not_before: datetime.datetime | None = None) -> list[tuple[datetime.datetime, int]]:
        """The sending intervals as (start, whole minutes), one per business day, from ``not_before`` on."""
        earliest = _ceil_to_minute(not_before.astimezone(JST)) if not_before else None
        result = []
        for day in business_days(self.starts_on, self.ends_on):
            start = datetime.datetime.combine(day, self.hours_start, tzinfo=JST)
            end = datetime.datetime.combine(day, self.hours_end, tzinfo=JST)
            if earliest is not None:
                start = max(start, earliest)
            minutes = int((end - start).total_seconds()) // 60
            if minutes > 0:
                result.append((start, minutes))
        return result

    def business_minutes(self, not_before: datetime.datetime | None = None) -> int:
        return sum(minutes for _start, minutes in self.intervals(not_before))


class MinuteClock:
    """Numbers the window's business minutes 0…total-1 and turns a number back into a JST time."""

    def __init__(self, intervals: list[tuple[datetime.datetime, int]]):
        self._starts = [start for start, _minutes in intervals]
        self._offsets: list[int] = []
        self.total = 0
        for _start, minutes in intervals:
            self._offsets.append(self.total)
            self.total += minutes

    def time_of(self, minute: int) -> datetime.datetime:
        index = bisect.bisect_right(self._offsets, minute) - 1
        return self._starts[index] + (minute - self._offsets[index]) * MINUTE


def spread_send_times(
    departments: Sequence[Hashable],
    window: SendingWindow,
    *,
    rng: random.Random,
    not_before: datetime.datetime | None = None,
) -> list[datetime.datetime]:
    """A send time for each recipient, given each recipient's department, in the order given.

    Colleagues should not all receive the drill at the same moment (one warns the others), so each
    department is spread over the whole window on its own:

    1. Number the window's business minutes 0…M-1 (from ``not_before`` on, e.g. launch time).
    2. For a department of s members (in random order) and a random phase u in [0, 1), member i gets the
       minutes [⌊(i+u)·M/s⌋, ⌊(i+1+u)·M/s⌋) modulo M: disjoint ranges, so when s ≤ M no two members of a
       department share a minute. When s > M they are dealt evenly over the minutes.
    3. A random minute inside the member's range, and a random second inside the minute.

    Every department is spread evenly with its own phase, so the whole audience is spread evenly too.
    Raises ValueError if no business minute remains.
    """
    clock = MinuteClock(window.intervals(not_before))
    if clock.total == 0:
        raise ValueError("no business minute left in the window")
    members_by_department: dict[Hashable, list[int]] = {}
    for index, department in enumerate(departments):
        members_by_department.setdefault(department, []).append(index)
    total = clock.total
    send_times: dict[int, datetime.datetime] = {}
    for members in members_by_department.values():
        rng.shuffle(members)
        size = len(members)
        phase = rng.random()
        for position, recipient in enumerate(members):
            first = math.floor((position + phase) * total / size)
            after_last = math.floor((position + 1 + phase) * total / size)
            minute = rng.randrange(first, after_last) if after_last > first else first
            send_times[recipient] = clock.time_of(minute % total) + datetime.timedelta(seconds=rng.randrange(60))
    return [send_times[recipient] for recipient in range(len(departments))]


def estimate_finish(
    *,
    queued: int,
    last_scheduled: datetime.datetime | None,
    rate_per_minute: int,
    now: datetime.datetime,
) -> datetime.datetime | None:
    """When the last queued mail should be out: not before its own send time, nor before the rate allows.

    ``rate_per_minute`` 0 means unlimited. None when nothing is queued.
    """
    if not queued or last_scheduled is None:
        return None
    throughput_bound = now + datetime.timedelta(minutes=queued / rate_per_minute) if rate_per_minute else now
    return max(last_scheduled, throughput_bound)
