"""The legal clock: when a ward must report a personal-data breach to the 個人情報保護委員会 (PPC).

The rule implemented (for 行政機関等, which a ward's organs are since the 2023 reform):

- Duty: 個人情報の保護に関する法律 第68条第1項 (行政機関の長等の漏えい等の報告). It is not 第26条 (that one is for
  個人情報取扱事業者, with a 1,000-people threshold in 規則第7条).
- Reportable situations: 個人情報の保護に関する法律施行規則 (平成28年個人情報保護委員会規則第3号) 第43条 — a
  漏えい・滅失・毀損 of 保有個人情報 that happened or may have happened, where at least one of:
  1. it includes 要配慮個人情報 (第1号);
  2. its misuse may cause financial harm, e.g. account or card data (財産的被害のおそれ, 第2号);
  3. it may come from an act done with an unauthorised purpose (不正の目的, e.g. unauthorised access, theft;
     第3号);
  4. more than 100 people are concerned (本人の数が百人を超える, 第4号; "more than": 100 is not enough). We
     take the case's personal records count as the number of people: the form asks for people, not rows;
  5. it includes 条例要配慮個人情報 (第5号: a local government's own sensitive categories defined by its 条例
     under 法第60条第5項; applies to 地方公共団体の機関 only, which a ward is).
  Items protected by 高度な暗号化 or similar (第1号の括弧書き, applying to every number) are excluded: mamori
  cannot judge that, so it asks for the report and the ward closes the tasks with a note when it applies.
  My Number data has its own reporting rule (番号法第29条の4 and its 規則): not handled here.
- 速報 (preliminary report, 規則第44条第1項): "速やかに" after knowing; the PPC guideline reads this as roughly
  3 to 5 days. We use ``INCIDENTS_PPC_PRELIMINARY_DAYS`` (default 3: the strict end of that range), counting
  the day the ward knew as day 1, and do not move it off weekends (it is a target, not a legal date).
- 確報 (final report, 規則第44条第2項): "当該事態を知った日から三十日以内" — 60 days for a situation of 第3号
  (不正の目的). Counted as the PPC guideline explains it (通則編 3-5-3-4, followed for 行政機関等 as well): the
  day of knowing is day 1, weekends and holidays count, and when the 30th / 60th day is a Saturday, Sunday,
  national holiday or a 年末年始 closing day (12/29–1/3) the due date is the next business day.
- The clock starts at detection (the case's ``detected_at``, the moment the ward "knew"). Days are JST days;
  a due date is the end (23:59:59 JST) of its day.

Pure functions: the actions turn the result into tasks.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.drills.fiscal import JST
from mamori.drills.schedule import is_business_day

PPC_PEOPLE_THRESHOLD = 100
FINAL_REPORT_DAYS = 30
FINAL_REPORT_DAYS_UNAUTHORISED_PURPOSE = 60

# Reasons, as stable keys; ``REASON_LABELS`` gives their Japanese wording for the pages.
SENSITIVE = "sensitive"
FINANCIAL = "financial"
UNAUTHORISED_PURPOSE = "unauthorised_purpose"
OVER_100_PEOPLE = "over_100_people"
ORDINANCE_SENSITIVE = "ordinance_sensitive"
REASON_LABELS = {
    SENSITIVE: _("要配慮個人情報を含む"),
    FINANCIAL: _("財産的被害のおそれ（口座・カード情報）"),
    UNAUTHORISED_PURPOSE: _("不正の目的によるおそれ"),
    OVER_100_PEOPLE: _("本人の数が100人を超える"),
    ORDINANCE_SENSITIVE: _("条例要配慮個人情報を含む"),
}
# Where each reason comes from (個人情報の保護に関する法律施行規則 第43条), for the pages and the task detail.
REASON_SOURCES = {
    SENSITIVE: "規則第43条第1号",
    FINANCIAL: "規則第43条第2号",
    UNAUTHORISED_PURPOSE: "規則第43条第3号",
    OVER_100_PEOPLE: "規則第43条第4号",
    ORDINANCE_SENSITIVE: "規則第43条第5号",
}


@dataclass(frozen=True)
class LegalDeadlines:
    """When the 速報 and the 確報 are due, and why the case is reportable."""

    reasons: tuple[str, ...]
    preliminary_due: datetime.datetime
    final_due: datetime.datetime


def reporting_reasons(*, records_count: int, record_kinds: list[str], unauthorised_purpose: bool) -> tuple[str, ...]:
    """Which items of 規則第43条 the case meets, in the order of the rule; empty when no personal data is
    involved or none is met."""
    involves_personal_data = records_count > 0 or bool(record_kinds)
    if not involves_personal_data:
        return ()
    reasons = []
    if "sensitive" in record_kinds:
        reasons.append(SENSITIVE)
    if "financial" in record_kinds:
        reasons.append(FINANCIAL)
    if unauthorised_purpose:
        reasons.append(UNAUTHORISED_PURPOSE)
    if records_count > PPC_PEOPLE_THRESHOLD:
        reasons.append(OVER_100_PEOPLE)
    if "ordinance_sensitive" in record_kinds:
        reasons.append(ORDINANCE_SENSITIVE)
    return tuple(reasons)


def end_of_day_after(moment: datetime.datetime, days: int) -> datetime.datetime:
    """The end (23:59:59 JST) of the ``days``-th calendar day after ``moment``'s day in JST."""
    day = moment.astimezone(JST).date() + datetime.timedelta(days=days)
    return _end_of(day)


def nth_day(moment: datetime.datetime, days: int) -> datetime.date:
    """The ``days``-th day of a period that starts on ``moment``'s JST day, that day being day 1."""
    return moment.astimezone(JST).date() + datetime.timedelta(days=days - 1)


def next_business_day_from(day: datetime.date) -> datetime.date:
    """``day`` itself if ward offices are open, else the next day they are (weekends, holidays, 12/29–1/3)."""
    while not is_business_day(day):
        day += datetime.timedelta(days=1)
    return day


def _end_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=JST)


def preliminary_due(detected_at: datetime.datetime) -> datetime.datetime:
    """速報: the end of the N-th day (N = ``INCIDENTS_PPC_PRELIMINARY_DAYS``), the day of knowing being day 1."""
    return _end_of(nth_day(detected_at, max(1, settings.INCIDENTS_PPC_PRELIMINARY_DAYS)))


def final_due(detected_at: datetime.datetime, *, unauthorised_purpose: bool) -> datetime.datetime:
    """確報: the end of the 30th (60th) day, the day of knowing being day 1, moved to the next business day."""
    days = FINAL_REPORT_DAYS_UNAUTHORISED_PURPOSE if unauthorised_purpose else FINAL_REPORT_DAYS
    return _end_of(next_business_day_from(nth_day(detected_at, days)))


def deadlines(
    *, detected_at: datetime.datetime, records_count: int, record_kinds: list[str], unauthorised_purpose: bool
) -> LegalDeadlines | None:
    """The 速報 and 確報 due dates, or None when the case need not be reported to the PPC."""
    reasons = reporting_reasons(
        records_count=records_count, record_kinds=record_kinds, unauthorised_purpose=unauthorised_purpose
    )
    if not reasons:
        return None
    return LegalDeadlines(
        reasons=reasons,
        preliminary_due=preliminary_due(detected_at),
        final_due=final_due(detected_at, unauthorised_purpose=unauthorised_purpose),
    )


def case_deadlines(case) -> LegalDeadlines | None:
    """``deadlines`` for a ``Case``."""
    return deadlines(
        detected_at=case.detected_at,
        records_count=case.personal_records_count,
        record_kinds=list(case.personal_record_kinds or []),
        unauthorised_purpose=case.unauthorised_purpose,
    )
