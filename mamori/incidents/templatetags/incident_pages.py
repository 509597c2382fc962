"""Template filters of the incident pages: times in JST as precise as they are known, durations in words.

Reporters often know only "around two o'clock" or "on the 3rd": a time is stored with its precision
(exact / hour / day / unknown) and shown no more precisely than that, so nobody reads 14:00 as a fact.
"""

import datetime

from django import template
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from mamori.drills.fiscal import JST

register = template.Library()


def when_text(value: datetime.datetime | None, precision: str = "exact") -> str:
    """「2026年12月3日 14:05」, 「2026年12月3日 14時台」, 「2026年12月3日（時刻不明）」 or 「不明」."""
    if value is None or precision == "unknown":
        return _("不明")
    local = value.astimezone(JST)
    day = dateformat.format(local, get_format("DATE_FORMAT"))  # 「2026年12月3日」, in English "Dec. 3, 2026"
    if precision == "day":
        return _("%(day)s（時刻不明）") % {"day": day}
    if precision == "hour":
        return _("%(day)s %(hour)s時台") % {"day": day, "hour": local.hour}
    return f"{day} {local:%H:%M}"


@register.filter
def when(value: datetime.datetime | None, precision: str = "exact") -> str:
    """``{{ case.detected_at|when:case.detected_precision }}``."""
    return when_text(value, precision or "exact")


def duration_text(seconds: float | None) -> str:
    """「3時間12分」, 「2日と5時間」, 「45分」; 「—」 when there is nothing to show."""
    if seconds is None:
        return "—"
    minutes = max(0, round(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)s日と%(hours)s時間") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s時間%(minutes)s分") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s分") % {"minutes": minutes}


@register.filter
def duration(value) -> str:
    """Seconds (a number or a timedelta) in words."""
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    return duration_text(value)
