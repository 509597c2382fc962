"""The KPIs of 支援策① and the figures the pages, exports and API show: read from rollups only.

This module is the interface of the metrics app: the pages (views, charts), the exports and the API consume
the dataclasses and the three functions below. Every function reads the rollups of ``mamori.metrics.models``
in a constant number of queries, whatever the number of campaigns, departments or events (the tests hold it
with assertNumQueries). The formulas are written down in docs/metrics.md.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.core.models import Organization, Person
from mamori.core.models.people import PATH_SEPARATOR
from mamori.drills.fiscal import FISCAL_YEAR_START_MONTH, round_label
from mamori.drills.models import Campaign
from mamori.drills.phish_scale import Difficulty
from mamori.metrics.models import CampaignRollup, Dimension, FiscalYearRollup
from mamori.metrics.rollups import (
    COUNTERS,
    DRILLS_DISTRIBUTION_CAP,
    FISCAL_YEAR_COUNTERS,
    HISTOGRAM_BUCKETS,
    HISTOGRAM_EDGES_MINUTES,
    NO_DEPARTMENT,
    refreshed_automatically,
    staleness_seconds,
)

# Units of a KPI's value.
PERCENT = "percent"
MINUTES = "minutes"
COUNT = "count"
RATIO = "ratio"

# Which direction is better.
HIGHER = "higher"
LOWER = "lower"

# Traffic-light statuses of a figure against its target.
GOOD = "good"
WARN = "warn"
BAD = "bad"
NONE = "none"

STATUS_LABELS = {
    GOOD: _("目標達成"),
    WARN: _("あと一歩"),
    BAD: _("目標未達"),
    NONE: _("目標なし・データなし"),
}
# A symbol beside the colour, so that the status does not rest on colour alone.
STATUS_SYMBOLS = {GOOD: "◎", WARN: "△", BAD: "✕", NONE: "－"}


@dataclass(frozen=True)
class Kpi:
    """One indicator: what it is called, its unit, its target and the formula shown beside it.

    ``target`` is the seed's target (None when the seed sets none: the figure is then shown without a
    traffic light). ``warn`` is the value at which the light turns from 「あと一歩」 (amber) to 「目標未達」
    (red): between ``target`` and ``warn`` is amber. ``formula`` is the Japanese formula shown on the page
    and in the exports; ``source`` says which recorded data it comes from.
    """

    key: str
    label: str | Promise
    unit: str
    target: float | None
    better: str
    formula: str | Promise
    warn: float | None = None
    source: str | Promise = ""
    # Shown on the ward dashboard's first row (the seed's KSI and KPIs); the others in the detail table.
    headline: bool = False

    def status(self, value: float | None) -> str:
        """good / warn / bad against the target; none without a value or without a target."""
        if value is None or self.target is None:
            return NONE
        if self.better == HIGHER:
            if value >= self.target:
                return GOOD
            return WARN if self.warn is not None and value >= self.warn else BAD
        if value < self.target:
            return GOOD
        return WARN if self.warn is not None and value < self.warn else BAD

    @property
    def target_label(self) -> str:
        """「80%以上」「3%未満」「4回」: the target as the seed words it; "" without one."""
        if self.target is None:
            return ""
        target = int(self.target) if float(self.target).is_integer() else self.target
        number = f"{target}%" if self.unit == PERCENT else format_number(target, self.unit)
        if self.key == "drills_per_person":
            return str(_("年%(number)s") % {"number": number})
        if self.better == HIGHER:
            return str(_("%(number)s以上") % {"number": number})
        return str(_("%(number)s未満") % {"number": number})


KPIS: dict[str, Kpi] = {}  # filled below, in display order


def _kpi(kpi: Kpi) -> None:
    KPIS[kpi.key] = kpi


_kpi(
    Kpi(
        "report_rate_1h",
        _("1時間以内の報告率"),
        PERCENT,
        80,
        HIGHER,
        _("配信から1時間以内（3,600秒ちょうどまで）に報告した人 ÷ 配信した人"),
        warn=50,
        source=_("配信の送信時刻と、その受信者本人による最初の報告の時刻"),
        headline=True,
    )
)
_kpi(
    Kpi(
        "report_rate",
        _("報告率（期間内）"),
        PERCENT,
        None,
        HIGHER,
        _("訓練実施回の終了までに報告した人 ÷ 配信した人（実施中の回は、これまでに報告した人）"),
        source=_("受信者本人による最初の報告と、訓練実施回の終了時刻"),
    )
)
_kpi(
    Kpi(
        "median_minutes",
        _("報告までの時間（中央値）"),
        MINUTES,
        None,
        LOWER,
        _("報告した人の、配信から報告までの時間の中央値（区間ごとの度数から求めた近似値）"),
        source=_("配信の送信時刻と最初の報告の時刻"),
    )
)
_kpi(
    Kpi(
        "p90_minutes",
        _("報告までの時間（90パーセンタイル）"),
        MINUTES,
        None,
        LOWER,
        _("報告した人の9割が報告を終えるまでの時間（区間ごとの度数から求めた近似値）"),
        source=_("配信の送信時刻と最初の報告の時刻"),
    )
)
_kpi(
    Kpi(
        "failure_rate",
        _("クリック・開封率（人の操作）"),
        PERCENT,
        3,
        LOWER,
        _(
            "リンクのクリック・QRコードの読み取り・添付ファイルを開く・フォーム入力・返信のいずれかを"
            "人が行った人 ÷ 配信した人"
            "（自動アクセスは除く）"
        ),
        warn=10,
        source=_("分類済みの人による最初の操作の時刻（自動と判定したアクセスは数えない）"),
        headline=True,
    )
)
_kpi(
    Kpi(
        "click_rate",
        _("リンクのクリック率"),
        PERCENT,
        3,
        LOWER,
        _("リンクをクリックした人（自動アクセスを除く）÷ 配信した人"),
        warn=10,
        source=_("人による最初のクリックの時刻"),
    )
)
_kpi(
    Kpi(
        "scan_rate",
        _("QRコードの読み取り率"),
        PERCENT,
        3,
        LOWER,
        _("QRコードを読み取った人（自動アクセスを除く）÷ 配信した人"),
        warn=10,
        source=_("人による最初の読み取りの時刻"),
    )
)
_kpi(
    Kpi(
        "attachment_rate",
        _("添付ファイルの開封率"),
        PERCENT,
        3,
        LOWER,
        _("添付ファイルを開いた人（自動アクセスを除く）÷ 配信した人"),
        warn=10,
        source=_("人による最初の添付ファイル操作の時刻"),
    )
)
_kpi(
    Kpi(
        "submit_rate",
        _("フォーム入力率"),
        PERCENT,
        3,
        LOWER,
        _("偽のフォームに入力した人（自動アクセスを除く）÷ 配信した人"),
        warn=10,
        source=_("人による最初のフォーム入力の時刻"),
    )
)
_kpi(
    Kpi(
        "automated_hits",
        _("自動アクセス（除外した件数）"),
        COUNT,
        None,
        LOWER,
        _("メールの検査装置などによる自動アクセスと判定し、上の率から除いたアクセスの件数"),
        source=_("訓練イベントの自動判定"),
    )
)
_kpi(
    Kpi(
        "drills_per_person",
        _("訓練の実施回数（1人あたり）"),
        COUNT,
        4,
        HIGHER,
        _("年度内に対象職員へ届いた訓練メールの数 ÷ 対象職員数"),
        warn=2,
        source=_("配信の記録と職員名簿"),
        headline=True,
    )
)
_kpi(
    Kpi(
        "participation",
        _("訓練参加率"),
        PERCENT,
        98,
        HIGHER,
        _("年度内に1回以上訓練メールが届いた対象職員 ÷ 対象職員（非正規職員を含む）"),
        warn=90,
        source=_("配信の記録と職員名簿"),
        headline=True,
    )
)
_kpi(
    Kpi(
        "resilience",
        _("レジリエンス比（報告 ÷ クリック等）"),
        RATIO,
        None,
        HIGHER,
        _("報告した人 ÷ クリック等をした人（人の操作）"),
        source=_("最初の報告の時刻と人による最初の操作の時刻"),
    )
)
_kpi(
    Kpi(
        "failed_then_reported",
        _("クリック後に報告した割合"),
        PERCENT,
        None,
        HIGHER,
        _("クリック等をした後に報告した人 ÷ クリック等をした人"),
        source=_("最初の報告の時刻と人による最初の操作の時刻"),
    )
)
_kpi(
    Kpi(
        "repeat_offenders",
        _("連続してクリック等をした割合"),
        PERCENT,
        None,
        LOWER,
        _("前回の訓練でクリック等をし、今回もクリック等をした人 ÷ 前回クリック等をし、今回も配信した人"),
        source=_("同じ区の直前の訓練実施回の結果"),
    )
)
_kpi(
    Kpi(
        "learning_completion",
        _("学習の完了率"),
        PERCENT,
        None,
        HIGHER,
        _("年度内に割り当てた学習のうち完了したもの ÷ 年度内に割り当てた学習"),
        source=_("学習の割り当てと完了の記録"),
    )
)
_kpi(
    Kpi(
        "normalised_failure_rate",
        _("難易度補正後のクリック・開封率"),
        PERCENT,
        3,
        LOWER,
        _("クリック等をした人 ÷ Σ（配信数 × シナリオ難易度の係数：易0.5・中1.0・難2.0）"),
        warn=10,
        source=_("クリック・開封率と各シナリオの難易度（NIST Phish Scale）"),
    )
)


@dataclass
class Figure:
    """A KPI's value for some scope (a ward, a round, a department), with what it was computed from.

    ``value`` is None when there is no data (no delivery, no report, no roster). ``numerator`` and
    ``denominator`` are the counts behind a rate (None for a median or an average of wards), so that a page
    can say 「123 / 456 人」. ``status`` is the traffic light against the KPI's target.
    """

    kpi: Kpi
    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    status: str = NONE

    @property
    def key(self) -> str:
        return self.kpi.key

    @property
    def display(self) -> str:
        """The value as shown: 「12.3%」「45分」「3.2回」「1.50」; 「－」 without data."""
        return format_number(self.value, self.kpi.unit)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def status_symbol(self) -> str:
        return STATUS_SYMBOLS[self.status]


@dataclass
class RoundPoint:
    """One point of a trend: a round (「2026年度 第2回」) or a quarter (「第3四半期」) with its figures.

    For a round, ``round_number``, ``campaign_public_id``, ``starts_on`` and ``difficulty_label`` (the
    Phish Scale mix of its scenarios: 「易」「中」「難」「混合」) are set; for a quarter, ``quarter`` (1–4 of
    the fiscal year, April–June = 1). ``difficulty_factor`` is the expected failure rate of its mix relative
    to a moderately difficult mail (1.0), used by ``normalised_failure_rate``.
    """

    label: str
    figures: dict[str, Figure]
    fiscal_year: int
    round_number: int | None = None
    quarter: int | None = None
    campaign_public_id: str = ""
    title: str = ""
    starts_on: datetime.date | None = None
    delivered: int = 0
    difficulty_label: str = ""
    difficulty_factor: float | None = None
    # The summed rollup counters behind the figures (delivered, reported, failed, … and the histogram).
    counts: Counts | None = field(default=None, repr=False, compare=False)
    # True when a department's point reached fewer than METRICS_MIN_GROUP_SIZE people: figures blanked.
    withheld: bool = False


@dataclass
class BreakdownRow:
    """One row of a breakdown (department tree, position, employment type) or of the ranking.

    ``key`` is the department's public_id, the position text or the employment type value ("" for the
    「その他」 row of merged small groups). ``size`` is the number of people counted (people reached by a
    drill this fiscal year; the roster when no one was reached). ``merged`` is True when the row holds
    groups below the minimum size folded into it (a department's small sub-departments, or 「その他」).
    ``depth`` is the department's level (0 = 部) for indenting the tree; 0 for the other breakdowns.
    """

    key: str
    label: str
    depth: int
    size: int
    figures: dict[str, Figure]
    merged: bool = False
    path: str = ""


@dataclass
class RankRow(BreakdownRow):
    """A department in the 部署対抗 ranking: ``rank`` 1 = best (ties share a rank)."""

    rank: int = 0


@dataclass
class Dashboard:
    """Everything the ward dashboard shows for one fiscal year (or one department's sub-tree).

    ``figures`` are the fiscal year's totals over all its rounds (see docs/metrics.md). ``rounds`` and
    ``quarters`` are the trends, oldest first. ``department`` is the sub-tree the dashboard is narrowed to
    (a dept_manager's view; positions and employment types are then empty: the rollups break them down for
    the whole ward only). ``computed_at`` is the time the figures are as of (the oldest rollup the worker
    still refreshes, or of all when every round is settled; None when nothing has been computed yet) and
    ``stale_seconds`` how far behind the events a figure of such a round may be (``staleness_seconds()``).
    """

    organization: object
    fiscal_year: int
    figures: dict[str, Figure]
    rounds: list[RoundPoint]
    quarters: list[RoundPoint]
    departments: list[BreakdownRow]
    positions: list[BreakdownRow]
    employment_types: list[BreakdownRow]
    computed_at: datetime.datetime | None
    stale_seconds: int
    department: object | None = None
    # The fiscal years with rollups, newest first (for the year selector).
    fiscal_years: list[int] = field(default_factory=list)
    # True when the people counted are fewer than METRICS_MIN_GROUP_SIZE (a small department's view):
    # the page should then withhold the figures rather than show a handful of people's results.
    too_small: bool = False
    # True while some round of the year is still recomputed by the worker (running, or closed within
    # METRICS_REFRESH_CLOSED_DAYS): ``stale_seconds`` is then the promise; otherwise the figures are settled.
    refreshing: bool = False

    @property
    def latest_round(self) -> RoundPoint | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def has_data(self) -> bool:
        return bool(self.rounds)

    @property
    def withheld_points(self) -> bool:
        """Whether some round or quarter of this department's view has its figures withheld (too few people)."""
        return any(point.withheld for point in [*self.rounds, *self.quarters])


@dataclass
class JointRow:
    """One ward in the joint view: 「区A」… or, for the viewer's own ward(s), its real name (``is_own``).

    No identifier of another ward is carried: not its name, code, id or public_id, nor its campaigns'
    titles, public_ids and start days; nor anything that gives its size away (the counts behind its rates, the
    recipients of its rounds, its count of automated hits). Those stay only in the viewer's own rows.
    """

    label: str
    is_own: bool
    figures: dict[str, Figure]
    rounds: list[RoundPoint]
    # The roster size, for the viewer's own wards only (0 for the others: a headcount identifies a ward).
    size: int = 0


@dataclass
class JointView:
    """All wards side by side for one fiscal year, anonymised, with the unweighted average of the wards."""

    fiscal_year: int
    rows: list[JointRow]
    average: dict[str, Figure]
    computed_at: datetime.datetime | None
    stale_seconds: int
    wards_with_data: int = 0
    refreshing: bool = False


def format_number(value: float | None, unit: str) -> str:
    """「12.3%」「45分」「3.2回」「1.50」「1,234」; 「－」 for None."""
    if value is None:
        return "－"
    if unit == PERCENT:
        return f"{value:.1f}%"
    if unit == MINUTES:
        # gettext, not the lazy _: called hundreds of times per page, a lazy proxy per call costs.
        return gettext("%(minutes)s分") % {"minutes": f"{value:.0f}" if value >= 10 else f"{value:.1f}"}
    if unit == RATIO:
        return f"{value:.2f}"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.1f}"


# --- reading the rollups ------------------------------------------------------------------------------------

_CAMPAIGN_FIELDS = (
    "organization_id",
    "campaign_id",
    "campaign__round_number",
    "campaign__starts_on",
    "campaign__title",
    "campaign__public_id",
    "campaign__state",
    "campaign__closed_at",
    "dimension",
    "key",
    "label",
    "path",
    "weighted_delivered",
    "report_histogram",
    "computed_at",
    *COUNTERS,
)
_YEAR_FIELDS = (
    "organization_id",
    "dimension",
    "key",
    "label",
    "path",
    "drills_distribution",
    "computed_at",
    *FISCAL_YEAR_COUNTERS,
)


@dataclass
class Counts:
    """Campaign rollup counters summed over rows (rounds, departments of a sub-tree…)."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    weighted_delivered: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BUCKETS)

    def add(self, row) -> Counts:
        values = self.values
        if isinstance(row, dict):
            source, histogram = row, row["report_histogram"] or []
            self.weighted_delivered += row["weighted_delivered"]
        else:
            source, histogram = row.values, row.histogram
            self.weighted_delivered += row.weighted_delivered
        for name in COUNTERS:
            values[name] += source[name]
        totals = self.histogram
        for index, value in enumerate(histogram[:HISTOGRAM_BUCKETS]):
            totals[index] += value
        return self

    def __getitem__(self, name: str) -> int:
        return self.values[name]


@dataclass
class YearCounts:
    """Fiscal-year rollup counters summed over rows."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FISCAL_YEAR_COUNTERS, 0))
    distribution: list[int] = field(default_factory=lambda: [0] * (DRILLS_DISTRIBUTION_CAP + 1))

    def add(self, row) -> YearCounts:
        source = row if isinstance(row, dict) else row.values
        for name in FISCAL_YEAR_COUNTERS:
            self.values[name] += source[name]
        distribution = row["drills_distribution"] if isinstance(row, dict) else row.distribution
        for index, value in enumerate((distribution or [])[: DRILLS_DISTRIBUTION_CAP + 1]):
            self.distribution[index] += value
        return self

    def __getitem__(self, name: str) -> int:
        return self.values[name]


def percentile_minutes(histogram: list[int], fraction: float) -> float | None:
    """The ``fraction`` percentile (0.5 = median) of the times to report, in minutes, from the histogram.

    The rank ``fraction × n`` is located in its bucket and interpolated linearly inside it (reports assumed
    evenly spread over the bucket): exact to the bucket's width, i.e. within a minute up to 3 minutes, 5
    minutes up to 20, 15 up to an hour. A rank in the last, open bucket (later than a week) gives its lower
    edge. None without any report.
    """
    total = sum(histogram)
    if total == 0:
        return None
    rank = fraction * total
    below = 0
    lower = 0.0
    for index, count in enumerate(histogram):
        if index == len(HISTOGRAM_EDGES_MINUTES):
            return float(HISTOGRAM_EDGES_MINUTES[-1])
        upper = float(HISTOGRAM_EDGES_MINUTES[index])
        if count and below + count >= rank:
            return lower + (upper - lower) * (rank - below) / count
        below += count
        lower = upper
    return lower


def _figure(key: str, numerator: int | None, denominator: int | None, *, scale: float = 100.0) -> Figure:
    """A rate figure: numerator ÷ denominator × scale; no value when the denominator is 0."""
    kpi = KPIS[key]
    value = scale * numerator / denominator if numerator is not None and denominator else None
    return Figure(kpi, value, numerator, denominator, kpi.status(value))


def _value_figure(key: str, value: float | None, *, numerator=None, denominator=None) -> Figure:
    kpi = KPIS[key]
    return Figure(kpi, value, numerator, denominator, kpi.status(value))


# Scopes of ``figures_of``: what the figures are computed over.
YEAR = "year"
ROUND = "round"
QUARTER = "quarter"


def figures_of(counts: Counts, year: YearCounts | None, *, scope: str = YEAR) -> dict[str, Figure]:
    """Every KPI from summed counters (docs/metrics.md has each formula). No query.

    ``year`` (the fiscal-year roster counters) is needed for participation, drills per person and learning:
    without it (or for a quarter) they have no value. For a round, participation is that round's recipients
    over the year's roster and drills per person is not defined.
    """
    delivered = counts["delivered"]
    failed = counts["failed"]
    histogram = counts.histogram
    timed_reports = sum(histogram)
    figures = {
        "report_rate_1h": _figure("report_rate_1h", counts["reported_within_hour"], delivered),
        "report_rate": _figure("report_rate", counts["reported_in_campaign"], delivered),
        "median_minutes": _value_figure(
            "median_minutes", percentile_minutes(histogram, 0.5), denominator=timed_reports
        ),
        "p90_minutes": _value_figure("p90_minutes", percentile_minutes(histogram, 0.9), denominator=timed_reports),
        "failure_rate": _figure("failure_rate", failed, delivered),
        "click_rate": _figure("click_rate", counts["clicked"], delivered),
        "scan_rate": _figure("scan_rate", counts["scanned"], delivered),
        "attachment_rate": _figure("attachment_rate", counts["attachment"], delivered),
        "submit_rate": _figure("submit_rate", counts["submitted"], delivered),
        "automated_hits": _value_figure(
            "automated_hits",
            float(counts["automated_hits"]) if delivered else None,
            numerator=counts["automated_hits"],
            denominator=counts["automated_hits"] + counts["human_hits"] + counts["pending_hits"],
        ),
        "resilience": _figure("resilience", counts["reported"], failed, scale=1.0),
        "failed_then_reported": _figure("failed_then_reported", counts["failed_then_reported"], failed),
        "repeat_offenders": _figure("repeat_offenders", counts["repeat_failed"], counts["previously_failed"]),
        "normalised_failure_rate": _value_figure(
            "normalised_failure_rate",
            100 * failed / counts.weighted_delivered if counts.weighted_delivered else None,
            numerator=failed,
            denominator=delivered,
        ),
    }
    roster = year["roster"] if year is not None and scope != QUARTER else 0
    if scope == YEAR:
        deliveries = year["deliveries"] if year is not None else None
        figures["drills_per_person"] = _figure("drills_per_person", deliveries, roster, scale=1.0)
        figures["participation"] = _figure("participation", year["reached"] if year else None, roster)
        figures["learning_completion"] = _figure(
            "learning_completion",
            year["learning_completed"] if year else None,
            year["learning_assigned"] if year else None,
        )
    else:
        figures["drills_per_person"] = _value_figure("drills_per_person", None)
        figures["participation"] = _figure("participation", delivered, roster)
        figures["learning_completion"] = _value_figure("learning_completion", None)
    return {key: figures[key] for key in KPIS}


# --- the department tree and the anonymity of small groups ---------------------------------------------------


def in_subtree(path: str, root: str) -> bool:
    return path == root or path.startswith(root + PATH_SEPARATOR)


def _parent_path(path: str) -> str | None:
    return path.rsplit(PATH_SEPARATOR, 1)[0] if PATH_SEPARATOR in path else None


def _depth(path: str) -> int:
    return path.count(PATH_SEPARATOR)


@dataclass
class _Group:
    """One department, position or employment type while building breakdowns: own counts, then sub-tree."""

    key: str
    label: str
    path: str = ""
    counts: Counts = field(default_factory=Counts)
    year: YearCounts = field(default_factory=YearCounts)
    rounds: int = 0
    merged: bool = False

    @property
    def size(self) -> int:
        """People counted: reached this fiscal year; without a year rollup, the recipients of an average round."""
        if self.year["roster"]:
            return self.year["reached"]
        return self.counts["delivered"] // max(1, self.rounds)

    def absorb(self, other: _Group) -> None:
        self.counts.add(other.counts)
        self.year.add(other.year)


def _suppress(parent_size: int, children: list[_Group], min_size: int) -> tuple[list[_Group], list[_Group]]:
    """(shown, hidden) children of a node so that no hidden remainder is smaller than ``min_size``.

    A child below the minimum is hidden; and while what the shown children leave of the parent (the
    parent's own members plus the hidden children) is above zero but below the minimum, the smallest shown
    child is hidden too, so that no small group can be worked out by subtracting the shown rows from the
    parent's figure.
    """
    shown = sorted((child for child in children if child.size >= min_size), key=lambda child: child.size)
    hidden = [child for child in children if child.size < min_size]
    while shown and 0 < parent_size - sum(child.size for child in shown) < min_size:
        hidden.append(shown.pop(0))
    return shown, hidden


def _row(group: _Group, *, depth: int = 0, label: str | None = None, cls=None) -> BreakdownRow:
    cls = cls or BreakdownRow
    return cls(
        key=group.key,
        label=label if label is not None else group.label,
        depth=depth,
        size=group.size,
        figures=figures_of(group.counts, group.year if group.year["roster"] else None),
        merged=group.merged,
        path=group.path,
    )


def _other_label() -> str:
    return str(_("その他（少人数の所属）"))


def _no_department_label() -> str:
    return str(_("所属なし"))


def department_label(path: str) -> str:
    """「総務部 › 総務課」 for a department path."""
    return path.replace(PATH_SEPARATOR, " › ")


def _department_groups(campaign_rows, year_rows, rounds: int) -> dict[str, _Group]:
    """Each department's OWN counts (not its sub-tree) over the fiscal year, by department key."""
    groups: dict[str, _Group] = {}
    for row in [*campaign_rows, *year_rows]:
        key = row["key"]
        group = groups.get(key)
        if group is None:
            label = row["label"] if key != NO_DEPARTMENT else _no_department_label()
            group = groups[key] = _Group(key, label, row["path"] if key != NO_DEPARTMENT else "", rounds=rounds)
        if "drills_distribution" in row:
            group.year.add(row)
        else:
            group.counts.add(row)
    return groups


def _subtree_groups(own: dict[str, _Group]) -> dict[str, _Group]:
    """Each department's sub-tree sums: its own counts added to itself and every ancestor present."""
    by_path = {group.path: group for group in own.values() if group.path}
    subtree = {key: _Group(group.key, group.label, group.path, rounds=group.rounds) for key, group in own.items()}
    for key, group in own.items():
        subtree[key].absorb(group)
        path = group.path
        while path and (path := _parent_path(path)) is not None:
            ancestor = by_path.get(path)
            if ancestor is not None:
                subtree[ancestor.key].absorb(group)
    return subtree


def _department_tree(
    own: dict[str, _Group], *, root: _Group | None, total: _Group, min_size: int
) -> list[BreakdownRow]:
    """The department tree (pre-order), sub-tree figures, small departments folded into their parent.

    ``root`` is the department a manager's view is narrowed to (shown first, whatever its size); without
    it, the roots of the ward's tree are shown and what they leave hidden goes to 「その他（少人数の所属）」.
    """
    subtree = _subtree_groups(own)
    paths = {group.path for group in subtree.values() if group.path}
    children: dict[str | None, list[_Group]] = {}
    for group in subtree.values():
        parent = _parent_path(group.path) if group.path else None
        children.setdefault(parent if parent in paths else None, []).append(group)
    rows: list[BreakdownRow] = []

    def walk(node: _Group, depth: int) -> None:
        shown, hidden = _suppress(node.size, children.get(node.path, []), min_size)
        node.merged = node.merged or any(child.size for child in hidden)
        rows.append(_row(node, depth=depth))
        for child in sorted(shown, key=lambda group: group.path):
            walk(child, depth + 1)

    if root is not None:
        start = subtree.get(root.key) or root
        walk(start, start.path.count(PATH_SEPARATOR))
        return rows
    tops = [group for group in children.get(None, []) if group.path or group.key == NO_DEPARTMENT]
    shown, hidden = _suppress(total.size, tops, min_size)
    for top in sorted(shown, key=lambda group: (group.key == NO_DEPARTMENT, group.path)):
        walk(top, _depth(top.path) if top.path else 0)
    other = _Group("", _other_label(), merged=True, rounds=total.rounds)
    for group in hidden:
        other.absorb(group)
    if other.size >= min_size:
        rows.append(_row(other))
    return rows


def _flat_breakdown(
    campaign_rows, year_rows, *, total: _Group, min_size: int, label_of, order_of, rounds: int
) -> list[BreakdownRow]:
    """Positions or employment types: groups below the minimum merged into 「その他（少人数）」."""
    groups: dict[str, _Group] = {}
    for row in [*campaign_rows, *year_rows]:
        group = groups.setdefault(row["key"], _Group(row["key"], label_of(row), rounds=rounds))
        if "drills_distribution" in row:
            group.year.add(row)
        else:
            group.counts.add(row)
    shown, hidden = _suppress(total.size, list(groups.values()), min_size)
    rows = [_row(group) for group in sorted(shown, key=order_of)]
    other = _Group("", str(_("その他（少人数）")), merged=True, rounds=rounds)
    for group in hidden:
        other.absorb(group)
    if other.size >= min_size:
        rows.append(_row(other))
    return rows


def _position_label(row) -> str:
    return row["key"] or str(_("役職なし"))


_EMPLOYMENT_LABELS = dict(Person.EmploymentType.choices)
_EMPLOYMENT_ORDER = {value: index for index, value in enumerate(Person.EmploymentType.values)}


def _employment_label(row) -> str:
    return str(_EMPLOYMENT_LABELS.get(row["key"], row["key"]))


# --- rounds and quarters ------------------------------------------------------------------------------------

_DIFFICULTY_LABELS = dict(Difficulty.choices)


def quarter_of(fiscal_year: int, day: datetime.date) -> int:
    """1–4: the quarter of the fiscal year a day falls in (April–June = 1); clamped into the year."""
    months = (day.year * 12 + day.month) - (fiscal_year * 12 + FISCAL_YEAR_START_MONTH)
    return max(1, min(4, months // 3 + 1))


def quarter_label(quarter: int) -> str:
    months = {1: _("4〜6月"), 2: _("7〜9月"), 3: _("10〜12月"), 4: _("1〜3月")}[quarter]
    return str(_("第%(quarter)s四半期（%(months)s）") % {"quarter": quarter, "months": months})


def _round_points(campaign_rows, year: YearCounts | None, *, fiscal_year: int, scope) -> list[RoundPoint]:
    """One point per round with deliveries, oldest first. ``scope(row)`` picks the rows counted."""
    by_campaign: dict[int, list[dict]] = {}
    for row in campaign_rows:
        by_campaign.setdefault(row["campaign_id"], []).append(row)
    points = []
    for rows in by_campaign.values():
        counts = Counts()
        for row in rows:
            if scope(row):
                counts.add(row)
        if not counts["delivered"]:
            continue
        first = rows[0]
        mix = {row["key"] for row in rows if row["dimension"] == Dimension.DIFFICULTY and row["delivered"]}
        difficulty = str(_DIFFICULTY_LABELS.get(next(iter(mix)), "")) if len(mix) == 1 else str(_("混合"))
        points.append(
            RoundPoint(
                label=round_label(fiscal_year, first["campaign__round_number"]),
                figures=figures_of(counts, year, scope=ROUND),
                fiscal_year=fiscal_year,
                round_number=first["campaign__round_number"],
                quarter=quarter_of(fiscal_year, first["campaign__starts_on"]),
                campaign_public_id=str(first["campaign__public_id"]),
                title=first["campaign__title"],
                starts_on=first["campaign__starts_on"],
                delivered=counts["delivered"],
                difficulty_label=difficulty if mix else "",
                difficulty_factor=counts.weighted_delivered / counts["delivered"],
                counts=counts,
            )
        )
    return sorted(points, key=lambda point: point.round_number)


def _quarter_points(rounds: list[RoundPoint], *, fiscal_year: int) -> list[RoundPoint]:
    """One point per quarter with rounds: the rounds that started in it, summed."""
    by_quarter: dict[int, Counts] = {}
    for point in rounds:
        by_quarter.setdefault(point.quarter, Counts()).add(point.counts)
    return [
        RoundPoint(
            label=quarter_label(quarter),
            figures=figures_of(counts, None, scope=QUARTER),
            fiscal_year=fiscal_year,
            quarter=quarter,
            delivered=counts["delivered"],
            difficulty_factor=counts.weighted_delivered / counts["delivered"] if counts["delivered"] else None,
            counts=counts,
        )
        for quarter, counts in sorted(by_quarter.items())
    ]


# --- the three views ----------------------------------------------------------------------------------------


def _oldest(*row_lists) -> datetime.datetime | None:
    times = [row["computed_at"] for rows in row_lists for row in rows]
    return min(times) if times else None


def _freshness(campaign_rows, year_rows) -> tuple[datetime.datetime | None, bool]:
    """(the time the figures are as of, whether some of them are still refreshed automatically).

    While rounds are running or recently closed, the worker keeps their rollups and the year's within
    ``staleness_seconds()`` of the events: the figures are as of the oldest of those rollups. Rounds
    closed longer ago are not recomputed any more; their old ``computed_at`` would make a live page look
    stale, so it counts only when every round is settled (then it is the time of the settled figures).
    """
    now = timezone.now()
    live = [
        row
        for row in campaign_rows
        if refreshed_automatically(row["campaign__state"], row["campaign__closed_at"], now=now)
    ]
    if live:
        return _oldest(live, year_rows), True
    return _oldest(campaign_rows, year_rows), False


def _split(rows, dimension: str) -> list[dict]:
    return [row for row in rows if row["dimension"] == dimension]


def _read(organization, fiscal_year: int, *, closed_only: bool = False) -> tuple[list[dict], list[dict]]:
    """TWO queries: the fiscal year's campaign rollup rows and year rollup rows of the organization.

    ``closed_only`` leaves out rounds still under way: a department manager sees a round once it is closed,
    so that nobody can warn their staff about a drill in progress (as on the campaign results page).
    """
    campaigns = CampaignRollup.objects.filter(organization=organization, fiscal_year=fiscal_year)
    if closed_only:
        campaigns = campaigns.filter(campaign__state=Campaign.State.CLOSED)
    campaign_rows = list(campaigns.order_by("campaign__round_number", "campaign_id").values(*_CAMPAIGN_FIELDS))
    year_rows = list(
        FiscalYearRollup.objects.filter(organization=organization, fiscal_year=fiscal_year)
        .order_by()
        .values(*_YEAR_FIELDS)
    )
    return campaign_rows, year_rows


def fiscal_years_of(organization) -> list[int]:
    """ONE query: the fiscal years with rollups, newest first (for the year selector)."""
    return list(
        CampaignRollup.objects.filter(organization=organization, dimension=Dimension.TOTAL)
        .order_by("-fiscal_year")
        .values_list("fiscal_year", flat=True)
        .distinct()
    )


def _min_size(min_size: int | None) -> int:
    return settings.METRICS_MIN_GROUP_SIZE if min_size is None else min_size


def ward_dashboard(
    organization, fiscal_year: int, *, department=None, min_size: int | None = None, closed_only: bool = False
) -> Dashboard:
    """The ward's dashboard for ``fiscal_year``; ``department`` narrows it to that sub-tree (manager view).

    ``closed_only``: rounds still under way are left out (what a department manager is shown).

    Three queries whatever the number of rounds, departments and events.
    """
    min_size = _min_size(min_size)
    campaign_rows, year_rows = _read(organization, fiscal_year, closed_only=closed_only)
    fiscal_years = fiscal_years_of(organization)
    department_rows = _split(campaign_rows, Dimension.DEPARTMENT)
    year_department_rows = _split(year_rows, Dimension.DEPARTMENT)
    round_count = len({row["campaign_id"] for row in campaign_rows})

    if department is not None:
        root_path = department.path
        department_rows = [row for row in department_rows if row["path"] and in_subtree(row["path"], root_path)]
        year_department_rows = [
            row for row in year_department_rows if row["path"] and in_subtree(row["path"], root_path)
        ]
        year = YearCounts()
        for row in year_department_rows:
            year.add(row)
        counts_rows = [*department_rows, *_split(campaign_rows, Dimension.DIFFICULTY)]

        def scope(row) -> bool:
            return row["dimension"] == Dimension.DEPARTMENT and in_subtree(row["path"], root_path)

    else:
        year = YearCounts()
        for row in _split(year_rows, Dimension.TOTAL):
            year.add(row)
        counts_rows = [row for row in campaign_rows if row["dimension"] in (Dimension.TOTAL, Dimension.DIFFICULTY)]

        def scope(row) -> bool:
            return row["dimension"] == Dimension.TOTAL

    year_or_none = year if year["roster"] else None
    rounds = _round_points(counts_rows, year_or_none, fiscal_year=fiscal_year, scope=scope)
    total = _Group("", "", rounds=round_count)
    for point in rounds:
        total.counts.add(point.counts)
    total.year = year
    own = _department_groups(department_rows, year_department_rows, round_count)
    if department is not None:
        root = own.get(str(department.public_id)) or _Group(
            str(department.public_id), department.name, department.path, rounds=round_count
        )
        own.setdefault(root.key, root)
        departments = _department_tree(own, root=root, total=total, min_size=min_size)
        positions: list[BreakdownRow] = []
        employment_types: list[BreakdownRow] = []
    else:
        departments = _department_tree(own, root=None, total=total, min_size=min_size)
        positions = _flat_breakdown(
            _split(campaign_rows, Dimension.POSITION),
            _split(year_rows, Dimension.POSITION),
            total=total,
            min_size=min_size,
            label_of=_position_label,
            order_of=lambda group: (-group.size, group.key),
            rounds=round_count,
        )
        employment_types = _flat_breakdown(
            _split(campaign_rows, Dimension.EMPLOYMENT),
            _split(year_rows, Dimension.EMPLOYMENT),
            total=total,
            min_size=min_size,
            label_of=_employment_label,
            order_of=lambda group: _EMPLOYMENT_ORDER.get(group.key, len(_EMPLOYMENT_ORDER)),
            rounds=round_count,
        )
    as_of, refreshing = _freshness(campaign_rows, year_rows)
    quarters = _quarter_points(rounds, fiscal_year=fiscal_year)
    if department is not None:
        # A round (or quarter) that reached only a few of the department's people would show their own results.
        for point in [*rounds, *quarters]:
            if point.delivered < min_size:
                _withhold(point)
    return Dashboard(
        organization=organization,
        fiscal_year=fiscal_year,
        figures=figures_of(total.counts, year_or_none),
        rounds=rounds,
        quarters=quarters,
        departments=departments,
        positions=positions,
        employment_types=employment_types,
        computed_at=as_of,
        stale_seconds=staleness_seconds(),
        refreshing=refreshing,
        department=department,
        fiscal_years=fiscal_years,
        too_small=total.size < min_size,
    )


def _withhold(point: RoundPoint) -> None:
    """Blank a point's figures (its recipient count stays): too few people for their results to be shown."""
    point.figures = {key: Figure(figure.kpi, None) for key, figure in point.figures.items()}
    point.withheld = True


def _rank_key(row: BreakdownRow) -> tuple:
    """Best first: 1-hour report rate (higher), median time to report (shorter), failure rate (lower)."""
    report = row.figures["report_rate_1h"].value
    median = row.figures["median_minutes"].value
    failure = row.figures["failure_rate"].value
    return (
        -report if report is not None else math.inf,
        median if median is not None else math.inf,
        failure if failure is not None else math.inf,
    )


def department_ranking(organization, fiscal_year: int, *, min_size: int | None = None) -> list[RankRow]:
    """部署対抗: departments ranked by 1-hour report rate, then median time to report, then failure rate.

    Each department counts its own members; one below ``min_size`` (default METRICS_MIN_GROUP_SIZE) is
    merged into its parent (deepest first, so a merged parent may itself merge upwards), and what remains
    too small at the top goes to 「その他（少人数の所属）」 (left out if that too is too small). Two queries.
    """
    min_size = _min_size(min_size)
    campaign_rows, year_rows = _read(organization, fiscal_year)
    round_count = len({row["campaign_id"] for row in campaign_rows})
    own = _department_groups(
        _split(campaign_rows, Dimension.DEPARTMENT), _split(year_rows, Dimension.DEPARTMENT), round_count
    )
    by_path = {group.path: group for group in own.values() if group.path}
    other = _Group("", _other_label(), merged=True, rounds=round_count)
    units = dict(own)
    for group in sorted(own.values(), key=lambda group: -_depth(group.path) if group.path else 0):
        if group.size >= min_size or group.key not in units:
            continue
        parent = by_path.get(_parent_path(group.path) or "") if group.path else None
        target = parent if parent is not None and parent.key in units else other
        if group.size or group.counts["delivered"]:
            target.absorb(group)
            target.merged = True
        del units[group.key]
    candidates = [*units.values(), other]
    rows = [
        _row(group, label=department_label(group.path) if group.path else group.label, cls=RankRow)
        for group in candidates
        if group.size >= min_size and group.counts["delivered"]
    ]
    rows.sort(key=lambda row: (_rank_key(row), row.label))
    previous_key = None
    for position, row in enumerate(rows, start=1):
        key = _rank_key(row)
        row.rank = rows[position - 2].rank if key == previous_key else position
        previous_key = key
    return rows


# Figures whose value grows with a ward's headcount: not shown for another ward, nor averaged.
SIZE_REVEALING = frozenset({"automated_hits"})


def _anonymous_figures(figures: dict[str, Figure]) -> dict[str, Figure]:
    """The rates only: no counts behind them (they would give the ward's size away)."""
    return {
        key: Figure(figure.kpi, None, None, None, NONE)
        if key in SIZE_REVEALING
        else Figure(figure.kpi, figure.value, None, None, figure.status)
        for key, figure in figures.items()
    }


def _anonymise(row: JointRow) -> None:
    """Strip another ward's row of everything but its rates (see JointRow)."""
    row.size = 0
    row.figures = _anonymous_figures(row.figures)
    for point in row.rounds:
        point.figures = _anonymous_figures(point.figures)
        point.title = ""
        point.campaign_public_id = ""
        # The days a ward's rounds started are a fingerprint of the ward (its drill calendar may be known).
        point.starts_on = None
        point.delivered = 0
        point.counts = None


def anonymous_order(organization_public_id, fiscal_year: int) -> str:
    """The sort key that orders wards in the joint view: an HMAC of the ward and year with SECRET_KEY.

    The order (and so the letter 区A, 区B…) reveals nothing of the ward (not its code, name or size) and
    changes every fiscal year, so that a letter cannot be followed from one year to the next.
    """
    message = f"mamori-metrics-joint:{fiscal_year}:{organization_public_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def anonymous_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA…"""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def joint_view(fiscal_year: int, *, viewer_organizations: set[int]) -> JointView:
    """Every ward's figures, anonymised except the wards in ``viewer_organizations`` (organization ids).

    Letters are given to all wards in the HMAC order (so two viewers call a ward by the same letter); the
    viewer's own wards are shown by their name instead. Only wards with data in the year are listed; the
    average is the unweighted mean of those wards' values (each ward counts once). Three queries.
    """
    wards = list(Organization.objects.filter(kind=Organization.Kind.WARD).values_list("pk", "public_id", "name"))
    ward_ids = [pk for pk, _public_id, _name in wards]
    campaign_rows = list(
        CampaignRollup.objects.filter(
            organization_id__in=ward_ids,
            fiscal_year=fiscal_year,
            dimension__in=(Dimension.TOTAL, Dimension.DIFFICULTY),
        )
        .order_by("campaign__round_number", "campaign_id")
        .values(*_CAMPAIGN_FIELDS)
    )
    year_rows = list(
        FiscalYearRollup.objects.filter(
            organization_id__in=ward_ids, fiscal_year=fiscal_year, dimension=Dimension.TOTAL
        ).values(*_YEAR_FIELDS)
    )
    campaigns_by_ward: dict[int, list[dict]] = {}
    for row in campaign_rows:
        campaigns_by_ward.setdefault(row["organization_id"], []).append(row)
    year_by_ward = {row["organization_id"]: YearCounts().add(row) for row in year_rows}

    ordered = sorted(wards, key=lambda ward: anonymous_order(ward[1], fiscal_year))
    rows = []
    for index, (pk, _public_id, name) in enumerate(ordered):
        year = year_by_ward.get(pk)
        year = year if year is not None and year["roster"] else None
        rounds = _round_points(
            campaigns_by_ward.get(pk, []),
            year,
            fiscal_year=fiscal_year,
            scope=lambda row: row["dimension"] == Dimension.TOTAL,
        )
        if not rounds and year is None:
            continue
        counts = Counts()
        for point in rounds:
            counts.add(point.counts)
        is_own = pk in viewer_organizations
        label = name if is_own else str(_("区%(letter)s") % {"letter": anonymous_letter(index)})
        rows.append(
            JointRow(
                label=label,
                is_own=is_own,
                figures=figures_of(counts, year),
                rounds=rounds,
                size=year["roster"] if year else 0,
            )
        )
    average = {}
    for key, kpi in KPIS.items():
        values = [row.figures[key].value for row in rows if row.figures[key].value is not None]
        mean = sum(values) / len(values) if values and key not in SIZE_REVEALING else None
        average[key] = Figure(kpi, mean, None, len(values) or None, kpi.status(mean))
    for row in rows:
        if not row.is_own:
            _anonymise(row)
    as_of, refreshing = _freshness(campaign_rows, year_rows)
    return JointView(
        fiscal_year=fiscal_year,
        rows=rows,
        average=average,
        computed_at=as_of,
        stale_seconds=staleness_seconds(),
        refreshing=refreshing,
        wards_with_data=len(rows),
    )
