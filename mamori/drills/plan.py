"""The fiscal-year plan (年間計画): how many drills each active person received against the target of four.

All figures are aggregate queries over the people with a per-person count subquery: the cost grows with
the number of departments, never with a loop over people.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.core.models import Department, Person
from mamori.core.models.people import PATH_SEPARATOR
from mamori.drills.fiscal import TARGET_ROUNDS_PER_YEAR, expected_rounds_so_far, fiscal_year_bounds
from mamori.drills.models import Delivery

# The distribution's columns: 0, 1, 2, 3 and "4 or more" rounds received.
BUCKET_COUNT = TARGET_ROUNDS_PER_YEAR + 1
# The department level the plan counts people at: 部, 課 or 係 (a 係's people count for their 課 at level 1).
LEVELS = {0: gettext_lazy("部"), 1: gettext_lazy("課"), 2: gettext_lazy("係")}


def with_rounds_received(people: QuerySet, fiscal_year: int) -> QuerySet:
    """``people`` annotated with ``rounds``: drill mails sent to each in the fiscal year."""
    start, end = fiscal_year_bounds(fiscal_year)
    sent = (
        Delivery.objects.filter(person=OuterRef("pk"), state=Delivery.State.SENT, sent_at__gte=start, sent_at__lt=end)
        .order_by()
        .values("person")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return people.annotate(rounds=Coalesce(Subquery(sent, output_field=IntegerField()), Value(0)))


def _with_bucket(people: QuerySet, fiscal_year: int) -> QuerySet:
    return with_rounds_received(people, fiscal_year).annotate(bucket=Least("rounds", Value(BUCKET_COUNT - 1)))


@dataclass
class Distribution:
    """How many people received 0, 1, 2, 3 and 4+ rounds, for one group (or everyone)."""

    label: str
    counts: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def on_target(self) -> int:
        return self.counts[-1]

    @property
    def on_target_percent(self) -> float:
        return 100 * self.on_target / self.total if self.total else 0.0


def _distributions(rows, label_of) -> dict[str, Distribution]:
    """Fold (group, bucket, people) rows into one distribution per label."""
    groups: dict[str, Distribution] = {}
    for row in rows:
        label = label_of(row)
        group = groups.setdefault(label, Distribution(label))
        group.counts[row["bucket"]] += row["people"]
    return groups


@dataclass
class FiscalYearPlan:
    fiscal_year: int
    expected_so_far: int
    overall: Distribution
    by_department: list[Distribution]
    by_employment_type: list[Distribution]
    missed: QuerySet

    @property
    def overall_rows(self) -> list[Distribution]:
        return [self.overall]


def department_label(path: str | None, level: int | None = None) -> str:
    """「総務部 › 総務課」: the department, or its ancestor at ``level`` (0 = 部) where its people are counted."""
    if not path:
        return _("所属なし")
    return " › ".join(path.split(PATH_SEPARATOR)[: None if level is None else level + 1])


def fiscal_year_plan(
    organization, people: QuerySet, fiscal_year: int, *, as_of: datetime.date, level: int = 1
) -> FiscalYearPlan:
    """The plan of ``people`` (active staff the viewer may see) for ``fiscal_year`` as of a date.

    Missed: people who received fewer rounds than the target's pace expects by ``as_of``
    (one per quarter ended).
    """
    active = people.filter(active=True)
    bucketed = _with_bucket(active, fiscal_year).order_by()
    overall = _distributions(bucketed.values("bucket").annotate(people=Count("pk")), lambda row: "")
    department_paths = dict(Department.objects.filter(organization=organization).values_list("pk", "path"))
    by_department = _distributions(
        bucketed.values("department_id", "bucket").annotate(people=Count("pk")),
        lambda row: department_label(department_paths.get(row["department_id"]), level),
    )
    by_employment_type = _distributions(
        bucketed.values("employment_type", "bucket").annotate(people=Count("pk")),
        lambda row: row["employment_type"],
    )
    expected = expected_rounds_so_far(fiscal_year, as_of)
    missed = (
        with_rounds_received(active, fiscal_year)
        .filter(rounds__lt=expected)
        .select_related("department")
        .order_by("rounds", "department__path", "employee_number")
    )
    return FiscalYearPlan(
        fiscal_year=fiscal_year,
        expected_so_far=expected,
        overall=overall.get("", Distribution("")),
        by_department=sorted(by_department.values(), key=lambda group: group.label),
        by_employment_type=[
            Distribution(str(label), by_employment_type[value].counts)
            for value, label in Person.EmploymentType.choices
            if value in by_employment_type
        ],
        missed=missed,
    )
