"""Recomputing the rollups the dashboards read: a few GROUP BY queries per campaign, one bulk write.

``refresh_campaign`` counts one campaign's sent deliveries grouped by (department, position, employment
type, scenario) in ONE aggregate query, its hits in one more, and folds those groups (a few hundred rows,
never one per delivery or event) into the rows of each dimension. ``refresh_fiscal_year`` does the same
for the roster of a fiscal year. Both replace their rows in one transaction, so a refresh is idempotent and
a reader sees either the old rows or the new ones.

The worker handler ``refresh_due_rollups`` recomputes campaigns that are sending, running or closed within
``METRICS_REFRESH_CLOSED_DAYS`` once their rollup is ``METRICS_ROLLUP_SECONDS`` old, and any launched
campaign that has none yet; then the fiscal years they belong to. A figure on a page is therefore at most
about ``METRICS_ROLLUP_SECONDS`` (plus the worker's poll) behind the events. Older closed campaigns keep
their figures until someone asks for a refresh (``refresh_organization``, the page's 「今すぐ再集計」).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
)
from django.utils import timezone

from mamori.core import worker
from mamori.core.models import Department, Organization, Person
from mamori.core.models.people import PATH_SEPARATOR
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_bounds
from mamori.drills.models import Campaign, Delivery, Event, Scenario
from mamori.drills.phish_scale import Difficulty, scenario_difficulty
from mamori.drills.results import HUMAN_FAILURE, RAW_KINDS, REPORTED, STAGES
from mamori.learning.models import Assignment
from mamori.metrics.models import CampaignRollup, Dimension, FiscalYearRollup

logger = logging.getLogger(__name__)

# Upper edges (minutes, inclusive) of the time-to-report buckets; one more bucket holds everything later.
# Fine where it matters (the first hour, the 1-hour rule is the edge at 60), coarse after a day.
HISTOGRAM_EDGES_MINUTES = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 480, 1440, 2880, 4320, 10080)
HISTOGRAM_BUCKETS = len(HISTOGRAM_EDGES_MINUTES) + 1
REPORT_WITHIN_HOUR_EDGE = HISTOGRAM_EDGES_MINUTES.index(60)

# Expected human failure rate of a mail of each Phish Scale difficulty relative to a moderately difficult one:
# the weights of the difficulty-normalised failure rate (docs/metrics.md explains the choice).
DIFFICULTY_FACTORS = {Difficulty.LEAST: 0.5, Difficulty.MODERATELY: 1.0, Difficulty.VERY: 2.0}

# drills_distribution[i] = people who received i drills; the last entry counts that many or more.
DRILLS_DISTRIBUTION_CAP = 5

# The department key of people without a department.
NO_DEPARTMENT = "-"

# Campaigns whose deliveries can exist: a draft or a scheduled campaign has sent nothing yet.
LAUNCHED_STATES = (
    Campaign.State.SENDING,
    Campaign.State.RUNNING,
    Campaign.State.CLOSED,
    Campaign.State.CANCELLED,
)
LIVE_STATES = (Campaign.State.SENDING, Campaign.State.RUNNING)

# How many campaigns one turn of the worker handler refreshes before giving the other handlers a turn.
BATCH_SIZE = 20

# Called as hook(organization, fiscal_year) after the worker recomputed a fiscal year. The pages register
# the drawing of the ward dashboard's charts here (MetricsConfig.ready), so that the first visitor after a
# refresh finds them drawn in the shared cache; the engine itself knows nothing of pages.
AFTER_REFRESH: list[Callable[[Organization, int], object]] = []

COUNTERS = (
    "delivered",
    "reported",
    "reported_in_campaign",
    "reported_within_hour",
    "failed",
    "clicked",
    "scanned",
    "attachment",
    "submitted",
    "replied",
    "failed_then_reported",
    "reported_without_failure",
    "previously_failed",
    "repeat_failed",
    "human_hits",
    "automated_hits",
    "pending_hits",
)
# The counters read as they are from the grouped delivery row (the others are derived or come from the hits).
_FROM_DELIVERIES = (
    "delivered",
    "reported",
    "reported_in_campaign",
    "failed",
    *(stage.key for stage in STAGES),
    "failed_then_reported",
    "reported_without_failure",
)
FISCAL_YEAR_COUNTERS = ("roster", "leavers", "reached", "deliveries", "learning_assigned", "learning_completed")


@dataclass
class Tally:
    """The counters of one group while folding: summed from the grouped query rows."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    weighted_delivered: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BUCKETS)

    def add(self, counts: dict[str, int], weight: float, histogram: list[int]) -> None:
        for name, value in counts.items():
            self.counts[name] += value
        self.weighted_delivered += weight
        for index, value in enumerate(histogram):
            self.histogram[index] += value


@dataclass
class FiscalTally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FISCAL_YEAR_COUNTERS, 0))
    distribution: list[int] = field(default_factory=lambda: [0] * (DRILLS_DISTRIBUTION_CAP + 1))


# --- the campaign's grouped queries -------------------------------------------------------------------------

GROUP_FIELDS = ("person__department_id", "person__position", "person__employment_type", "scenario_id")


def _reported_within(minutes: int) -> Q:
    """Reported no later than ``minutes`` after sending: exactly 60 minutes (3,600 s) still counts as 1 hour."""
    return REPORTED & Q(sent_at__isnull=False, reported_at__lte=F("sent_at") + datetime.timedelta(minutes=minutes))


def _reported_in_campaign(campaign: Campaign) -> Q:
    """Reported while the campaign was open: no later than its close (any report while it is still open).

    A report that arrives after the campaign closed still counts as a report (resilience, the results
    page), but not in the 期間内 report rate.
    """
    if campaign.closed_at is None:
        return REPORTED
    return REPORTED & Q(reported_at__lte=campaign.closed_at)


def _failed_before_report() -> Q:
    """Reported at or after one of the person's failures, i.e. after the first of them (then reported)."""
    condition = Q()
    for stage in STAGES:
        condition |= Q(**{f"{stage.field}__isnull": False, "reported_at__gte": F(stage.field)})
    return REPORTED & condition


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The organization's round before this one: launched, not cancelled, latest by (fiscal year, round)."""
    return (
        Campaign.objects.filter(organization_id=campaign.organization_id, launched_at__isnull=False)
        .exclude(state=Campaign.State.CANCELLED)
        .filter(
            Q(fiscal_year__lt=campaign.fiscal_year)
            | Q(fiscal_year=campaign.fiscal_year, round_number__lt=campaign.round_number)
        )
        .order_by("-fiscal_year", "-round_number")
        .only("pk")
        .first()
    )


def _delivery_groups(campaign: Campaign, previous: Campaign | None) -> list[dict]:
    """ONE query: the sent deliveries' counters per (department, position, employment type, scenario)."""
    aggregates = {
        "delivered": Count("pk"),
        "reported": Count("pk", filter=REPORTED),
        "reported_in_campaign": Count("pk", filter=_reported_in_campaign(campaign)),
        "failed": Count("pk", filter=HUMAN_FAILURE),
        "failed_then_reported": Count("pk", filter=HUMAN_FAILURE & _failed_before_report()),
        "reported_without_failure": Count("pk", filter=REPORTED & ~HUMAN_FAILURE),
        "timed_reports": Count("pk", filter=REPORTED & Q(sent_at__isnull=False)),
        **{stage.key: Count("pk", filter=Q(**{f"{stage.field}__isnull": False})) for stage in STAGES},
        **{f"within_{edge}": Count("pk", filter=_reported_within(edge)) for edge in HISTOGRAM_EDGES_MINUTES},
    }
    if previous is not None:
        # An uncorrelated IN (SELECT …): the database computes the previous round's failures once and hashes
        # them, whatever its statistics say (a correlated EXISTS per delivery can turn quadratic).
        failed_last_time = Q(
            person_id__in=Delivery.objects.filter(campaign=previous, state=Delivery.State.SENT)
            .filter(HUMAN_FAILURE)
            .order_by()
            .values("person_id")
        )
        aggregates["previously_failed"] = Count("pk", filter=failed_last_time)
        aggregates["repeat_failed"] = Count("pk", filter=failed_last_time & HUMAN_FAILURE)
    return list(
        Delivery.objects.filter(campaign=campaign, state=Delivery.State.SENT)
        .order_by()
        .values(*GROUP_FIELDS)
        .annotate(**aggregates)
    )


def _hit_groups(campaign: Campaign) -> list[dict]:
    """ONE query: the campaign's hits (the kinds of the results page) per group, by the classifier's verdict."""
    prefix = "delivery__"
    return list(
        Event.objects.filter(delivery__campaign=campaign, delivery__state=Delivery.State.SENT, kind__in=RAW_KINDS)
        .order_by()
        .values(*(prefix + name for name in GROUP_FIELDS))
        .annotate(
            human_hits=Count("pk", filter=Q(automated=False)),
            automated_hits=Count("pk", filter=Q(automated=True)),
            pending_hits=Count("pk", filter=Q(automated__isnull=True)),
        )
    )


def histogram_of(row: dict) -> list[int]:
    """Reports per bucket, from the cumulative "reported within N minutes" counts of a grouped row."""
    cumulative = [row[f"within_{edge}"] for edge in HISTOGRAM_EDGES_MINUTES] + [row["timed_reports"]]
    return [value - (cumulative[index - 1] if index else 0) for index, value in enumerate(cumulative)]


@dataclass(frozen=True)
class DepartmentInfo:
    public_id: str
    name: str
    path: str


def _departments_by_id(organization_id: int) -> dict[int, DepartmentInfo]:
    return {
        pk: DepartmentInfo(str(public_id), name, path)
        for pk, public_id, name, path in Department.objects.filter(organization_id=organization_id).values_list(
            "pk", "public_id", "name", "path"
        )
    }


def _ancestor_paths(path: str) -> list[str]:
    """「総務部/総務課/文書係」 → 「総務部」, 「総務部/総務課」."""
    names = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(names[:depth]) for depth in range(1, len(names))]


class _Folder:
    """Folds grouped rows into one accumulator per (dimension, key), keeping the labels and paths."""

    def __init__(self, departments: dict[int, DepartmentInfo], factory):
        self.departments = departments
        self.by_path = {info.path: info for info in departments.values()}
        self.factory = factory
        self.rows: dict[tuple[str, str], object] = {}
        self.labels: dict[tuple[str, str], tuple[str, str]] = {}

    def get(self, dimension: str, key: str, label: str = "", path: str = ""):
        slot = (dimension, key)
        if slot not in self.rows:
            self.rows[slot] = self.factory()
            self.labels[slot] = (label, path)
        return self.rows[slot]

    def total(self):
        return self.get(Dimension.TOTAL, "")

    def department(self, department_id: int | None):
        info = self.departments.get(department_id) if department_id is not None else None
        if info is None:
            return self.get(Dimension.DEPARTMENT, NO_DEPARTMENT)
        # Every ancestor gets a row too (zero counts of its own), so the tree can be drawn from rollups alone.
        for ancestor_path in _ancestor_paths(info.path):
            ancestor = self.by_path.get(ancestor_path)
            if ancestor is not None:
                self.get(Dimension.DEPARTMENT, ancestor.public_id, ancestor.name, ancestor.path)
        return self.get(Dimension.DEPARTMENT, info.public_id, info.name, info.path)

    def position(self, position: str):
        return self.get(Dimension.POSITION, position, position)

    def employment(self, employment_type: str):
        return self.get(Dimension.EMPLOYMENT, employment_type)


def _scenario_factors(scenario_ids: Iterable[int]) -> dict[int, tuple[str, float]]:
    """(difficulty, factor) per scenario: the Phish Scale of each scenario the campaign sent."""
    scenarios = Scenario.objects.filter(pk__in=set(scenario_ids)).only("pk", "cue_count", "cues", "premise_alignment")
    result = {}
    for scenario in scenarios:
        difficulty = scenario_difficulty(scenario)
        result[scenario.pk] = (str(difficulty), DIFFICULTY_FACTORS[difficulty])
    return result


def refresh_campaign(campaign: Campaign, *, now: datetime.datetime | None = None) -> int:
    """Recompute the campaign's rollup rows (replacing the old ones atomically); returns the rows written.

    Queries: the previous round, the grouped deliveries, the grouped hits, the departments, the scenarios,
    then the delete and one bulk insert: the same handful whatever the number of deliveries or events.
    """
    now = now or timezone.now()
    previous = previous_campaign(campaign)
    groups = _delivery_groups(campaign, previous)
    hits = _hit_groups(campaign)
    folder = _Folder(_departments_by_id(campaign.organization_id), Tally)
    factors = _scenario_factors(row["scenario_id"] for row in groups)
    folder.total()  # always written, even for a campaign that delivered nothing: it marks the refresh time

    for row in groups:
        counts = {name: row[name] for name in _FROM_DELIVERIES}
        counts["reported_within_hour"] = row["within_60"]
        counts["previously_failed"] = row.get("previously_failed", 0)
        counts["repeat_failed"] = row.get("repeat_failed", 0)
        histogram = histogram_of(row)
        difficulty, factor = factors.get(row["scenario_id"], (str(Difficulty.MODERATELY), 1.0))
        weight = row["delivered"] * factor
        for tally in _tallies_of(folder, row, "", difficulty):
            tally.add(counts, weight, histogram)

    for row in hits:
        counts = {name: row[name] for name in ("human_hits", "automated_hits", "pending_hits")}
        difficulty, _factor = factors.get(row["delivery__scenario_id"], (str(Difficulty.MODERATELY), 1.0))
        for tally in _tallies_of(folder, row, "delivery__", difficulty):
            tally.add(counts, 0.0, [])

    rollups = [
        CampaignRollup(
            organization_id=campaign.organization_id,
            campaign=campaign,
            fiscal_year=campaign.fiscal_year,
            dimension=dimension,
            key=key,
            label=folder.labels[(dimension, key)][0],
            path=folder.labels[(dimension, key)][1],
            weighted_delivered=tally.weighted_delivered,
            report_histogram=tally.histogram,
            computed_at=now,
            **tally.counts,
        )
        for (dimension, key), tally in folder.rows.items()
    ]
    with transaction.atomic():
        # One refresh of a campaign at a time (two workers, or a worker and the page's button): the second
        # waits and then replaces the first one's rows. NO KEY UPDATE does not block hits referencing it.
        Campaign.objects.filter(pk=campaign.pk).select_for_update(no_key=True).values_list("pk").first()
        CampaignRollup.objects.filter(campaign=campaign).delete()
        CampaignRollup.objects.bulk_create(rollups, batch_size=500)
    return len(rollups)


def _tallies_of(folder: _Folder, row: dict, prefix: str, difficulty: str) -> list:
    """The accumulators a grouped row adds to: the total and its group in each dimension."""
    return [
        folder.total(),
        folder.department(row[prefix + "person__department_id"]),
        folder.position(row[prefix + "person__position"] or ""),
        folder.employment(row[prefix + "person__employment_type"] or ""),
        folder.get(Dimension.DIFFICULTY, difficulty),
    ]


# --- the fiscal year's roster -------------------------------------------------------------------------------


def _people_groups(organization: Organization, fiscal_year: int) -> list[dict]:
    """ONE query: people per (department, position, employment type, drills received, in post, left in year).

    Drills received = the person's sent deliveries of the fiscal year's campaigns, counted in a derived
    table grouped by person and joined to the roster (a hash join: no per-person subquery), then grouped
    again: the rows returned are a few per group, never one per person. Plain SQL, because the ORM cannot
    join a grouped subquery; the same text runs on PostgreSQL and SQLite.
    """
    # As the ORM would pass them (SQLite compares datetimes as UTC text).
    start, end = (connection.ops.adapt_datetimefield_value(moment) for moment in fiscal_year_bounds(fiscal_year))
    person = Person._meta.db_table
    delivery = Delivery._meta.db_table
    campaign = Campaign._meta.db_table
    # In post at the end of the fiscal year (now, for the current one): joined before it ended and not left
    # by then. ``active`` alone decides for the current year; deactivated_at, for a past one.
    in_post = "(p.created_at < %s AND (p.active OR (p.deactivated_at IS NOT NULL AND p.deactivated_at >= %s)))"
    left_in_year = (
        "(NOT p.active AND p.deactivated_at IS NOT NULL AND p.deactivated_at >= %s AND p.deactivated_at < %s)"
    )
    sql = f"""
        SELECT p.department_id, p.position, p.employment_type, COALESCE(d.drills, 0) AS drills,
               {in_post} AS in_post, {left_in_year} AS left_in_year, COUNT(*) AS people
        FROM {person} p
        LEFT JOIN (
            SELECT person_id, COUNT(*) AS drills FROM {delivery}
            WHERE state = %s AND campaign_id IN (
                SELECT id FROM {campaign} WHERE organization_id = %s AND fiscal_year = %s
            )
            GROUP BY person_id
        ) d ON d.person_id = p.id
        WHERE p.organization_id = %s
        GROUP BY p.department_id, p.position, p.employment_type, COALESCE(d.drills, 0), {in_post}, {left_in_year}
    """  # noqa: S608 (table names from the models; every value is a parameter)
    parameters = [
        end, end, start, end,
        Delivery.State.SENT, organization.pk, fiscal_year,
        organization.pk,
        end, end, start, end,
    ]  # fmt: skip
    names = ("department_id", "position", "employment_type", "drills", "in_post", "left_in_year", "people")
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _learning_groups(organization: Organization, fiscal_year: int) -> list[dict]:
    """ONE query: learning assigned in the fiscal year and completed, per group of people."""
    start, end = fiscal_year_bounds(fiscal_year)
    return list(
        Assignment.objects.filter(organization=organization, assigned_at__gte=start, assigned_at__lt=end)
        .order_by()
        .values("person__department_id", "person__position", "person__employment_type")
        .annotate(
            assigned=Count("pk"),
            completed=Count("pk", filter=Q(completion__completed_at__isnull=False)),
        )
    )


def refresh_fiscal_year(organization: Organization, fiscal_year: int, *, now: datetime.datetime | None = None) -> int:
    """Recompute the organization's fiscal-year rows (roster, reach, drills per person, learning)."""
    now = now or timezone.now()
    folder = _Folder(_departments_by_id(organization.pk), FiscalTally)
    folder.total()
    for row in _people_groups(organization, fiscal_year):
        drills = row["drills"] or 0
        # The roster: in post at the year's end, or reached by a drill this year (a leaver who was drilled).
        if not (row["in_post"] or drills):
            continue
        people = row["people"]
        for tally in _fiscal_tallies_of(folder, row, ""):
            tally.counts["roster"] += people
            tally.counts["reached"] += people if drills else 0
            tally.counts["deliveries"] += people * drills
            tally.counts["leavers"] += people if row["left_in_year"] and not row["in_post"] else 0
            tally.distribution[min(drills, DRILLS_DISTRIBUTION_CAP)] += people
    for row in _learning_groups(organization, fiscal_year):
        for tally in _fiscal_tallies_of(folder, row, "person__"):
            tally.counts["learning_assigned"] += row["assigned"]
            tally.counts["learning_completed"] += row["completed"]

    rollups = [
        FiscalYearRollup(
            organization=organization,
            fiscal_year=fiscal_year,
            dimension=dimension,
            key=key,
            label=folder.labels[(dimension, key)][0],
            path=folder.labels[(dimension, key)][1],
            drills_distribution=tally.distribution,
            computed_at=now,
            **tally.counts,
        )
        for (dimension, key), tally in folder.rows.items()
    ]
    with transaction.atomic():
        Organization.objects.filter(pk=organization.pk).select_for_update(no_key=True).values_list("pk").first()
        FiscalYearRollup.objects.filter(organization=organization, fiscal_year=fiscal_year).delete()
        FiscalYearRollup.objects.bulk_create(rollups, batch_size=500)
    return len(rollups)


def _fiscal_tallies_of(folder: _Folder, row: dict, prefix: str) -> list:
    department_key = "department_id" if not prefix else prefix + "department_id"
    return [
        folder.total(),
        folder.department(row[department_key]),
        folder.position(row[prefix + "position"] or ""),
        folder.employment(row[prefix + "employment_type"] or ""),
    ]


# --- whole organizations and the worker ---------------------------------------------------------------------


def refresh_organization(organization: Organization, fiscal_year: int) -> int:
    """Recompute every launched campaign of the organization's fiscal year, then the year: 「今すぐ再集計」.

    Returns the number of campaigns refreshed.
    """
    now = timezone.now()
    campaigns = list(
        Campaign.objects.filter(organization=organization, fiscal_year=fiscal_year, state__in=LAUNCHED_STATES)
    )
    for campaign in campaigns:
        refresh_campaign(campaign, now=now)
    refresh_fiscal_year(organization, fiscal_year, now=now)
    return len(campaigns)


def due_campaigns(*, now: datetime.datetime, limit: int = BATCH_SIZE) -> list[Campaign]:
    """Campaigns whose figures may have changed and whose rollup is older than METRICS_ROLLUP_SECONDS.

    Sending or running, or closed within METRICS_REFRESH_CLOSED_DAYS (late reports still arrive), or
    launched and never rolled up at all. Oldest rollup first.
    """
    stale_before = now - datetime.timedelta(seconds=settings.METRICS_ROLLUP_SECONDS)
    closed_since = now - datetime.timedelta(days=settings.METRICS_REFRESH_CLOSED_DAYS)
    last_refresh = CampaignRollup.objects.filter(campaign=OuterRef("pk"), dimension=Dimension.TOTAL).values(
        "computed_at"
    )[:1]
    recent = Q(state__in=LIVE_STATES) | Q(state=Campaign.State.CLOSED, closed_at__gte=closed_since)
    return list(
        Campaign.objects.filter(state__in=LAUNCHED_STATES)
        .annotate(last_refresh=Subquery(last_refresh))
        .filter(Q(last_refresh__isnull=True) | (recent & Q(last_refresh__lt=stale_before)))
        .order_by(F("last_refresh").asc(nulls_first=True), "pk")[:limit]
    )


def due_fiscal_years(*, now: datetime.datetime) -> set[tuple[int, int]]:
    """(organization id, fiscal year) whose year rollup is missing or stale while the year is current.

    Past years change only through their campaigns (handled with them) or a refresh from the page.
    """
    stale_before = now - datetime.timedelta(seconds=settings.METRICS_ROLLUP_SECONDS)
    fiscal_year = current_fiscal_year()
    with_campaigns = set(
        Campaign.objects.filter(fiscal_year=fiscal_year, state__in=LAUNCHED_STATES)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    fresh = set(
        FiscalYearRollup.objects.filter(
            fiscal_year=fiscal_year, dimension=Dimension.TOTAL, computed_at__gte=stale_before
        ).values_list("organization_id", flat=True)
    )
    return {(organization_id, fiscal_year) for organization_id in with_campaigns - fresh}


def refresh_due_rollups(*, now: datetime.datetime | None = None) -> bool:
    """The worker handler: refresh due campaigns and fiscal years; False when nothing was due."""
    now = now or timezone.now()
    years: set[tuple[int, int]] = set()
    campaigns = due_campaigns(now=now)
    for campaign in campaigns:
        if worker.stop_requested.is_set():
            break
        refresh_campaign(campaign, now=now)
        years.add((campaign.organization_id, campaign.fiscal_year))
    years |= due_fiscal_years(now=now)
    organizations = Organization.objects.in_bulk({organization_id for organization_id, _year in years})
    for organization_id, fiscal_year in sorted(years):
        if worker.stop_requested.is_set():
            break
        refresh_fiscal_year(organizations[organization_id], fiscal_year, now=now)
        for hook in AFTER_REFRESH:
            try:
                hook(organizations[organization_id], fiscal_year)
            except Exception:
                # The rollup is written; a hook only prepares pages (drawn charts), which draw themselves
                # anyway. Its failure must not hold up the refresh of the other years.
                logger.exception("metrics: after-refresh hook %s failed", getattr(hook, "__name__", hook))
    return bool(campaigns or years)


def staleness_seconds() -> int:
    """How far behind the recorded events a figure of a round still refreshed automatically may be.

    A hit is classified (human or automated) TRACKING_CLASSIFY_AFTER_SECONDS after it arrives, at the
    worker's next poll; the round's rollup is recomputed at the first poll after it is
    METRICS_ROLLUP_SECONDS old. Worst case: the classification lands just after a refresh, so the figure
    shows it a full rollup period later. A backlog of due refreshes (more than BATCH_SIZE rounds) adds
    the time of the refreshes ahead of it.
    """
    return settings.TRACKING_CLASSIFY_AFTER_SECONDS + settings.METRICS_ROLLUP_SECONDS + 2 * settings.WORKER_POLL_SECONDS


def refreshed_automatically(state: str, closed_at: datetime.datetime | None, *, now: datetime.datetime) -> bool:
    """Whether the worker still recomputes a round in this state (see ``due_campaigns``)."""
    if state in LIVE_STATES:
        return True
    closed_since = now - datetime.timedelta(days=settings.METRICS_REFRESH_CLOSED_DAYS)
    return state == Campaign.State.CLOSED and closed_at is not None and closed_at >= closed_since


def latest_refresh(organization: Organization) -> datetime.datetime | None:
    """When the organization's rollups were last computed (for a status line)."""
    return CampaignRollup.objects.filter(organization=organization, dimension=Dimension.TOTAL).aggregate(
        latest=Max("computed_at")
    )["latest"]
