"""The legal clock: when a ward must report a personal-data breach to the 個人情報保護委員会 (PPC).

The rule implemented (for 行政機関等, which a ward is):

- Source: 個人情報の保護に関する法律 第68条第1項 (漏えい等の報告) and 個人情報の保護に関する法律施行規則
  第43条 (報告対象となる事態) and 第44条 (速報・確報), as explained in 個人情報保護委員会「個人情報の保護に
  関する法律についてのガイドライン（行政機関等編）」.
- A case is reportable when personal data was (or may have been) leaked, lost or damaged and at least one of:
  1. it includes 要配慮個人情報 (規則第43条第1号);
  2. its misuse may cause financial harm, e.g. account or card data (財産的被害のおそれ, 第2号);
  3. it may have been done with an unauthorised purpose (不正の目的, e.g. unauthorised access, theft; 第3号);
  4. more than 100 people are concerned (本人の数が百人を超える, 第4号). We take the case's personal records
     count as the number of people: the form asks for people, not rows.
- 速報 (preliminary report): "速やかに" after the ward came to know; the guideline reads this as roughly 3 to 5
  days. We use ``INCIDENTS_PPC_PRELIMINARY_DAYS`` (default 3: the strict end of that range).
- 確報 (final report): within 30 days of coming to know, 60 days when criterion 3 (不正の目的) applies.
- The clock starts at detection (the case's ``detected_at``, the moment the ward "knew"). A due date is the end
  of the N-th calendar day after the detection day in JST (the first day is not counted, as in 民法第140条).

Pure functions: the actions turn the result into tasks.
"""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

JST = zoneinfo.ZoneInfo("Asia/Tokyo")

PPC_PEOPLE_THRESHOLD = 100
FINAL_REPORT_DAYS = 30
FINAL_REPORT_DAYS_UNAUTHORISED_PURPOSE = 60

# Reasons, as stable keys; ``REASON_LABELS`` gives their Japanese wording for the pages.
SENSITIVE = "sensitive"
FINANCIAL = "financial"
UNAUTHORISED_PURPOSE = "unauthorised_purpose"
OVER_100_PEOPLE = "over_100_people"
REASON_LABELS = {
    SENSITIVE: _("要配慮個人情報を含む"),
    FINANCIAL: _("財産的被害のおそれ（口座・カード情報）"),
    UNAUTHORISED_PURPOSE: _("不正の目的によるおそれ"),
    OVER_100_PEOPLE: _("本人の数が100人を超える"),
}


@dataclass(frozen=True)
class LegalDeadlines:
    """When the 速報 and the 確報 are due, and why the case is reportable."""

    reasons: tuple[str, ...]
    preliminary_due: datetime.datetime
    final_due: datetime.datetime


def reporting_reasons(*, records_count: int, record_kinds: list[str], unauthorised_purpose: bool) -> tuple[str, ...]:
    """Which criteria of 規則第43条 the case meets; empty when no personal data is involved or none is met."""
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
    return tuple(reasons)


def end_of_day_after(moment: datetime.datetime, days: int) -> datetime.datetime:
    """The end (23:59:59 JST) of the ``days``-th calendar day after ``moment``'s day in JST."""
    day = moment.astimezone(JST).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=JST)


def deadlines(
    *, detected_at: datetime.datetime, records_count: int, record_kinds: list[str], unauthorised_purpose: bool
) -> LegalDeadlines | None:
    """The 速報 and 確報 due dates, or None when the case need not be reported to the PPC."""
    reasons = reporting_reasons(
        records_count=records_count, record_kinds=record_kinds, unauthorised_purpose=unauthorised_purpose
    )
    if not reasons:
        return None
    final_days = FINAL_REPORT_DAYS_UNAUTHORISED_PURPOSE if unauthorised_purpose else FINAL_REPORT_DAYS
    return LegalDeadlines(
        reasons=reasons,
        preliminary_due=end_of_day_after(detected_at, settings.INCIDENTS_PPC_PRELIMINARY_DAYS),
        final_due=end_of_day_after(detected_at, final_days),
    )


def case_deadlines(case) -> LegalDeadlines | None:
    """``deadlines`` for a ``Case``."""
    return deadlines(
        detected_at=case.detected_at,
        records_count=case.personal_records_count,
        record_kinds=list(case.personal_record_kinds or []),
        unauthorised_purpose=case.unauthorised_purpose,
    )
