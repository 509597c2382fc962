"""Time measures of incident handling, computed from the append-only transitions (never typed in).

Per case (docs/incidents.md):
- MTTD (time to detect) = opening transition − occurred_at; only when the occurrence time is known to the
  minute or the hour (precision exact / hour): a day-only or unknown time would make the figure up.
- MTTA (time to acknowledge) = first transition into triage − opening transition (the detection time).
- MTTC (time to contain) = first transition into contained − opening transition.
- MTTR (time to resolve, the KGI ≤ 24 h) = the final transition into closed − opening transition; only for
  cases closed now. Reopen: a reopened case leaves MTTR while it is open again and counts once more when it is
  closed again, from the same start, so the time it spent closed in between is included (the incident was not
  really over). First triage and first containment keep their first moments.
- A case whose detection time is known only to the day or not at all has none of the four figures (it is
  still counted as a case): every figure starts at the detection.
Each figure is the mean over the cases that have it, with the count; grouped per ward, per category and per
fiscal quarter of detection (JST, 年度 from April). Major incidents are counted per group.

Cost: two queries whatever the number of cases (each case's durations computed from its transitions in SQL,
and the wards' names).
"""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.models import Organization
from mamori.drills.fiscal import JST, fiscal_year_of
from mamori.incidents.models import Case, TimePrecision

# A duration is only as good as its two ends: a time known to the day or not at all would make it up.
MTTD_PRECISIONS = frozenset({TimePrecision.EXACT, TimePrecision.HOUR})
# The detection time starts every measure; cases detected at a day-only or unknown time are counted as cases
# but left out of MTTD/MTTA/MTTC/MTTR (the page shows how many cases each figure rests on).
MEASURED_PRECISIONS = MTTD_PRECISIONS


@dataclass(frozen=True)
class CaseDurations:
    """One case's four durations (None where the case has not reached that point or the time is unknown)."""

    mttd: datetime.timedelta | None
    mtta: datetime.timedelta | None
    mttc: datetime.timedelta | None
    mttr: datetime.timedelta | None


@dataclass(frozen=True)
class Stat:
    """The mean and median of one duration over the cases that have it."""

    count: int
    mean: datetime.timedelta | None
    median: datetime.timedelta | None

    @property
    def mean_hours(self) -> float | None:
        return None if self.mean is None else round(self.mean.total_seconds() / 3600, 1)

    @classmethod
    def of(cls, durations: list[datetime.timedelta]) -> "Stat":
        if not durations:
            return cls(0, None, None)
        seconds = [duration.total_seconds() for duration in durations]
        return cls(
            len(seconds),
            datetime.timedelta(seconds=round(statistics.fmean(seconds))),
            datetime.timedelta(seconds=round(statistics.median(seconds))),
        )


@dataclass
class GroupMeasures:
    """The measures of one group of cases (a ward, a category, a quarter, or all)."""

    key: str
    label: str
    cases: int = 0
    open: int = 0
    major: int = 0
    mttd: Stat = field(default_factory=lambda: Stat(0, None, None))
    mtta: Stat = field(default_factory=lambda: Stat(0, None, None))
    mttc: Stat = field(default_factory=lambda: Stat(0, None, None))
    mttr: Stat = field(default_factory=lambda: Stat(0, None, None))

    @property
    def meets_target(self) -> bool | None:
        """Whether the mean MTTR is within the KGI (None when no case of the group is closed)."""
        if self.mttr.mean is None:
            return None
        return self.mttr.mean <= datetime.timedelta(hours=settings.INCIDENTS_MTTR_TARGET_HOURS)


@dataclass
class MeasuresReport:
    total: GroupMeasures
    by_ward: list[GroupMeasures]
    by_category: list[GroupMeasures]
    by_quarter: list[GroupMeasures]
    target_hours: int


def durations_from(
    transitions: Iterable[tuple[str, str, datetime.datetime]],
    occurred_at: datetime.datetime | None,
    occurred_precision: str,
    detected_precision: str = TimePrecision.EXACT,
) -> CaseDurations:
    """A case's durations from its transitions ``(from_state, to_state, at)`` in time order."""
    opened = first_triage = first_contained = last_closed = None
    last_state = ""
    for from_state, to_state, at in transitions:
        if not from_state and to_state == Case.State.NEW and opened is None:
            opened = at
        elif to_state == Case.State.TRIAGE and first_triage is None:
            first_triage = at
        elif to_state == Case.State.CONTAINED and first_contained is None:
            first_contained = at
        if to_state == Case.State.CLOSED:
            last_closed = at
        last_state = to_state
    return durations_from_marks(
        Marks(opened, first_triage, first_contained, last_closed),
        last_state,
        occurred_at,
        occurred_precision,
        detected_precision,
    )


@dataclass(frozen=True)
class Marks:
    """The moments the measures start and stop at, read from a case's transitions."""

    opened: datetime.datetime | None
    first_triage: datetime.datetime | None
    first_contained: datetime.datetime | None
    last_closed: datetime.datetime | None


def durations_from_marks(
    marks: Marks,
    state: str,
    occurred_at: datetime.datetime | None,
    occurred_precision: str,
    detected_precision: str = TimePrecision.EXACT,
) -> CaseDurations:
    """The four formulas of docs/incidents.md. MTTR only for a case closed now (its last transition); none
    at all when the detection time, where every measure starts, is known only to the day or not at all."""
    if marks.opened is None or detected_precision not in MEASURED_PRECISIONS:
        return CaseDurations(None, None, None, None)
    known_occurrence = occurred_at is not None and occurred_precision in MTTD_PRECISIONS
    return CaseDurations(
        mttd=_since(occurred_at, marks.opened) if known_occurrence else None,
        mtta=_since(marks.opened, marks.first_triage),
        mttc=_since(marks.opened, marks.first_contained),
        mttr=_since(marks.opened, marks.last_closed) if state == Case.State.CLOSED else None,
    )


def _since(start: datetime.datetime | None, end: datetime.datetime | None) -> datetime.timedelta | None:
    if start is None or end is None:
        return None
    return max(end - start, datetime.timedelta(0))


def case_durations(case: Case) -> CaseDurations:
    """The durations of one case (one query: its transitions)."""
    rows = case.transitions.order_by("at", "id").values_list("from_state", "to_state", "at")
    return durations_from(rows, case.occurred_at, case.occurred_precision, case.detected_precision)


def fiscal_quarter_of(moment: datetime.datetime) -> tuple[int, int]:
    """(fiscal year, quarter 1–4) of a moment in JST: April–June is the first quarter."""
    day = timezone.localtime(moment, JST).date()
    return fiscal_year_of(day), (day.month - 4) % 12 // 3 + 1


def quarter_label(fiscal_year: int, quarter: int) -> str:
    return _("%(year)s年度 第%(quarter)s四半期") % {"year": fiscal_year, "quarter": quarter}


def cases_detected_between(
    cases: QuerySet[Case], start: datetime.datetime | None, end: datetime.datetime | None
) -> QuerySet[Case]:
    """The cases detected in the half-open period [start, end) (either bound may be open)."""
    if start is not None:
        cases = cases.filter(detected_at__gte=start)
    if end is not None:
        cases = cases.filter(detected_at__lt=end)
    return cases


def measure(cases: QuerySet[Case]) -> MeasuresReport:
    """The measures of ``cases`` (already scoped to what the viewer may see), total and per group.

    1. Read each case's grouping fields with its marks (first triage, first containment, last close…)
       aggregated from its transitions in SQL: one query, one row per case.
    2. Compute each case's durations (``durations_from_marks``) and fold them into the total and the
       per-ward, per-category and per-quarter groups.

    Measured alternative (10,000 cases): computing the durations and the JST quarter in SQL too was no faster on
    PostgreSQL and four times slower on SQLite (Django evaluates datetime differences and time-zone extracts
    there in Python functions), and a GROUP BY per group would lose the median. So SQL aggregates per case and
    Python folds.
    """
    rows = (
        cases.order_by()
        .annotate(
            opened=Min("transitions__at", filter=Q(transitions__from_state="", transitions__to_state=Case.State.NEW)),
            first_triage=Min("transitions__at", filter=Q(transitions__to_state=Case.State.TRIAGE)),
            first_contained=Min("transitions__at", filter=Q(transitions__to_state=Case.State.CONTAINED)),
            last_closed=Max("transitions__at", filter=Q(transitions__to_state=Case.State.CLOSED)),
        )
        .values_list(
            "organization_id",
            "category",
            "is_major",
            "state",
            "detected_at",
            "detected_precision",
            "occurred_at",
            "occurred_precision",
            "opened",
            "first_triage",
            "first_contained",
            "last_closed",
        )
    )
    groups: dict[tuple[str, object], list[tuple[tuple, CaseDurations]]] = defaultdict(list)
    for row in rows:
        organization_id, category, is_major, state, detected_at, detected_precision = row[:6]
        occurred_at, occurred_precision = row[6:8]
        durations = durations_from_marks(Marks(*row[8:]), state, occurred_at, occurred_precision, detected_precision)
        item = ((organization_id, category, is_major, state), durations)
        groups[("total", None)].append(item)
        groups[("ward", organization_id)].append(item)
        groups[("category", category)].append(item)
        groups[("quarter", fiscal_quarter_of(detected_at))].append(item)

    ward_names = dict(
        Organization.objects.filter(pk__in={key for kind, key in groups if kind == "ward"}).values_list("pk", "name")
    )
    category_labels = dict(Case.Category.choices)
    by_kind: dict[str, list[GroupMeasures]] = defaultdict(list)
    for (kind, key), items in groups.items():
        if kind == "ward":
            label = ward_names.get(key, "")
        elif kind == "category":
            label = str(category_labels.get(key, key))
        elif kind == "quarter":
            label = quarter_label(*key)
        else:
            label = _("全体")
        by_kind[kind].append(_fold(f"{kind}:{key}", label, items))

    category_order = {value: index for index, value in enumerate(Case.Category.values)}
    return MeasuresReport(
        total=(by_kind["total"] or [GroupMeasures("total:None", _("全体"))])[0],
        by_ward=sorted(by_kind["ward"], key=lambda group: group.label),
        by_category=sorted(by_kind["category"], key=lambda group: category_order.get(group.key.split(":", 1)[1], 99)),
        by_quarter=sorted(by_kind["quarter"], key=lambda group: group.key),
        target_hours=settings.INCIDENTS_MTTR_TARGET_HOURS,
    )


def _fold(key: str, label: str, items: list[tuple[tuple, CaseDurations]]) -> GroupMeasures:
    group = GroupMeasures(key=key, label=label)
    group.cases = len(items)
    group.major = sum(1 for fact, _durations in items if fact[2])
    group.open = sum(1 for fact, _durations in items if fact[3] != Case.State.CLOSED)
    for name in ("mttd", "mtta", "mttc", "mttr"):
        values = [getattr(durations, name) for _fact, durations in items]
        setattr(group, name, Stat.of([value for value in values if value is not None]))
    return group
