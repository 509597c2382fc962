"""The KPI pages: the ward dashboard, the 部署対抗 ranking, a department's own view and the joint view.

Who sees what:
- security_admin, CSIRT, auditor: the ward dashboard, the ranking, any department's view;
- dept_manager: the view of their own department's sub-tree only (sent there from the dashboard);
- joint_admin: the joint view of all wards, anonymised except the wards the user belongs to.

Every page reads the rollups through ``mamori.metrics.kpis`` (a constant number of queries whatever the
number of campaigns, departments or events) and draws its charts server-side (``mamori.metrics.charts``).
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mamori.core.scoping import current_organization, require_role, tenancy
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_label
from mamori.metrics import charts, kpis
from mamori.metrics.access import (
    ORGANIZATION_WIDE_ROLES,
    Role,
    department_asked_for,
    managed_departments,
    sees_whole_ward,
    viewer_organizations,
    visible_departments,
)
from mamori.metrics.actions import refresh_now
from mamori.metrics.forms import PeriodForm

REFRESH_ROLES = (Role.SECURITY_ADMIN,)
# The columns of the breakdown and ranking tables, in this order.
# Participation too: the seed counts non-regular staff, and the employment-type rows show whether they are reached.
BREAKDOWN_KPIS = (
    "report_rate_1h",
    "median_minutes",
    "failure_rate",
    "report_rate",
    "failed_then_reported",
    "participation",
)
# The columns of the tables of rounds and quarters (the charts' data), where they have values.
TREND_KPIS = ("report_rate_1h", "median_minutes", "failure_rate", "normalised_failure_rate", "participation")
RANKING_KPIS = ("report_rate_1h", "median_minutes", "failure_rate", "click_rate")
JOINT_KPIS = ("report_rate_1h", "failure_rate", "drills_per_person", "participation", "median_minutes")
# The ranking and the joint view offer this fiscal year and the ones before it.
RECENT_YEARS = 4
# Drawn charts are kept in a file cache shared by the web processes and the worker (``chart_cache``): a
# chart is redrawn only when its figures change (a few KB each). Bump the version when charts.py changes.
CHART_VERSION = 2
CHART_CACHE_SECONDS = 7 * 24 * 3600
# 23 wards × ~17 charts × 2 languages, the ranking, departments and joint views, with room to spare.
CHART_CACHE_ENTRIES = 3000
# Kept for callers of the former per-process cache's size.
CHART_CACHE_SIZE = 2048


@dataclass
class KpiCard:
    """A KPI on the dashboard: its figure, the traffic light and the small trend chart over the rounds."""

    figure: kpis.Figure
    chart_uri: str
    chart_alt: str

    @property
    def kpi(self) -> kpis.Kpi:
        return self.figure.kpi

    @property
    def status(self) -> SafeString:
        return status_html(self.figure)


@dataclass
class Comparison:
    """A joint-view or ranking chart: one KPI across rows, as an image plus its description."""

    kpi: kpis.Kpi
    chart_uri: str
    chart_alt: str


@functools.cache
def chart_cache() -> BaseCache:
    """Where drawn charts are kept: ``settings.CACHES["metrics"]`` if the deployment defines one, else a
    file cache of their own in the data directory.

    Not the default cache: it holds the staff-report rate limits and the roster import progress, and a
    file cache evicts a random third of its entries when full, so hundreds of charts would push those out.
    """
    if "metrics" in settings.CACHES:
        return caches["metrics"]
    location = Path(settings.DATA_DIR) / "metrics-charts"
    return FileBasedCache(
        str(location), {"TIMEOUT": CHART_CACHE_SECONDS, "OPTIONS": {"MAX_ENTRIES": CHART_CACHE_ENTRIES}}
    )


def chart_key(parts: tuple) -> str:
    """The cache key of a chart: a hash of everything its picture depends on."""
    return "metrics-chart:" + hashlib.sha256(repr((CHART_VERSION, *parts)).encode()).hexdigest()


def _cached_chart(parts: tuple, draw) -> str:
    """A chart's data: URL from the chart cache (shared by the server's processes), drawn on a miss.

    The key is a hash of everything the picture depends on (its figures, labels, target, language and
    ``CHART_VERSION``), so a changed figure is a new key and a stale chart is never shown; entries expire
    after ``CHART_CACHE_SECONDS`` so unused ones do not pile up.
    """
    key = chart_key(parts)
    store = chart_cache()
    uri = store.get(key)
    if uri is None:
        uri = draw()
        store.set(key, uri, CHART_CACHE_SECONDS)
    return uri


def trend_chart_uri(
    points: tuple[tuple[str, float | None], ...], unit: str, target: float | None, title: str, language: str
) -> str:
    """A trend chart as a data: URL, drawn once per set of figures (``language`` keys the translated words)."""
    return _cached_chart(
        ("trend", points, unit, target, title, language),
        lambda: charts.data_uri(charts.trend_chart(points, unit=unit, target=target, title=title)),
    )


def comparison_chart_uri(
    rows: tuple[tuple[str, float | None], ...],
    unit: str,
    target: float | None,
    average: float | None,
    highlighted: frozenset[str],
    language: str,
) -> str:
    """A comparison chart as a data: URL, drawn once per set of figures."""
    return _cached_chart(
        ("comparison", rows, unit, target, average, tuple(sorted(highlighted)), language),
        lambda: charts.data_uri(
            charts.comparison_chart(rows, unit=unit, target=target, average=average, highlighted=highlighted)
        ),
    )


def _short_label(point: kpis.RoundPoint) -> str:
    """「第2回」「第3四半期」 on a chart's axis (the table beside it gives the full label)."""
    if point.round_number is not None:
        return _("第%(round)s回") % {"round": point.round_number}
    if point.quarter is not None:
        return _("第%(quarter)s四半期") % {"quarter": point.quarter}
    return point.label


def trend_points(points: list[kpis.RoundPoint], key: str) -> tuple[tuple[str, float | None], ...]:
    return tuple((_short_label(point), point.figures[key].value if key in point.figures else None) for point in points)


def _display(figures: dict[str, kpis.Figure], kpi: kpis.Kpi) -> str:
    return figures[kpi.key].display if kpi.key in figures else kpis.format_number(None, kpi.unit)


def trend_description(kpi: kpis.Kpi, points: list[kpis.RoundPoint]) -> str:
    """The chart's alt text: every point in words, and the target."""
    values = "、".join(f"{point.label} {_display(point.figures, kpi)}" for point in points)
    text = _("%(kpi)sの推移: %(values)s") % {"kpi": kpi.label, "values": values or _("データなし")}
    if kpi.target_label:
        text += _("（目標 %(target)s）") % {"target": kpi.target_label}
    return text


def kpi_cards(dashboard: kpis.Dashboard) -> list[KpiCard]:
    """Every KPI with its fiscal-year figure and, where the rounds carry it, a trend chart."""
    cards = []
    for key, kpi in kpis.KPIS.items():
        figure = dashboard.figures.get(key) or kpis.Figure(kpi=kpi, value=None)
        with_trend = [point for point in dashboard.rounds if key in point.figures]
        chart_uri = ""
        if any(point.figures[key].value is not None for point in with_trend):
            chart_uri = trend_chart_uri(trend_points(with_trend, key), kpi.unit, kpi.target, "", get_language())
        cards.append(KpiCard(figure=figure, chart_uri=chart_uri, chart_alt=trend_description(kpi, with_trend)))
    return cards


def quarter_charts(dashboard: kpis.Dashboard) -> list[KpiCard]:
    """The headline KPIs per quarter of the fiscal year."""
    cards = []
    for kpi in (kpi for kpi in kpis.KPIS.values() if kpi.headline):
        points = [point for point in dashboard.quarters if kpi.key in point.figures]
        if not any(point.figures[kpi.key].value is not None for point in points):
            continue
        chart_uri = trend_chart_uri(trend_points(points, kpi.key), kpi.unit, kpi.target, str(kpi.label), get_language())
        cards.append(
            KpiCard(
                figure=kpis.Figure(kpi=kpi, value=None),
                chart_uri=chart_uri,
                chart_alt=trend_description(kpi, points),
            )
        )
    return cards


def warm_dashboard_charts(organization, fiscal_year: int) -> int:
    """Draw the ward dashboard's charts into the shared cache in every language; returns the charts drawn or found.

    Called by the worker after it recomputed the year (``rollups.AFTER_REFRESH``): the next visitor's page
    then only reads them. Three queries per language; charts whose figures did not change are found as they are.
    """
    charts_ready = 0
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            dashboard = kpis.ward_dashboard(organization, fiscal_year)
            charts_ready += sum(1 for card in kpi_cards(dashboard) if card.chart_uri)
            charts_ready += len(quarter_charts(dashboard))
    return charts_ready


def freshness(computed_at, stale_seconds: int, refreshing: bool = True) -> dict:
    """「集計日時 …（最大N分遅れ）」 for the page; minutes rounded up so the promise is never understated.

    ``refreshing`` is False when every round shown is settled (closed longer than
    METRICS_REFRESH_CLOSED_DAYS ago): the worker no longer recomputes them, so no lag is promised.
    """
    return {
        "computed_at": computed_at,
        "stale_minutes": max(1, -(-stale_seconds // 60)),
        "refreshing": refreshing,
        "closed_days": settings.METRICS_REFRESH_CLOSED_DAYS,
    }


def _columns(keys: tuple[str, ...]) -> list[kpis.Kpi]:
    return [kpis.KPIS[key] for key in keys if key in kpis.KPIS]


def status_html(figure: kpis.Figure) -> SafeString:
    """The traffic light: colour, symbol and words (the symbol is hidden from screen readers, the words not)."""
    return format_html(
        '<span class="traffic-light traffic-{}"><span class="traffic-symbol" aria-hidden="true">{}</span> {}</span>',
        figure.status,
        figure.status_symbol,
        figure.status_label,
    )


def cells(figures: dict[str, kpis.Figure], columns: list[kpis.Kpi]) -> SafeString:
    """A table row's ``<td>``s in the columns' order, each figure with its traffic light when it has a target.

    Built here rather than by an include per cell: a ward's tables hold hundreds of cells, and the template
    include per cell was most of the page's time. The four traffic lights are rendered once per language.
    """
    lights = _traffic_lights(get_language())
    rendered = []
    for kpi in columns:
        figure = figures.get(kpi.key)
        display = escape(figure.display if figure is not None else kpis.format_number(None, kpi.unit))
        if kpi.target is not None and figure is not None and figure.value is not None:
            rendered.append(f'<td class="number">{display} {lights[figure.status]}</td>')
        else:
            rendered.append(f'<td class="number">{display}</td>')
    # Every part is escaped above or is the fixed markup of status_html.
    return mark_safe("".join(rendered))  # noqa: S308


@functools.cache
def _traffic_lights(language: str | None) -> dict[str, SafeString]:
    """status → its traffic light's HTML in ``language`` (the figure only decides the status)."""
    return {
        status: status_html(kpis.Figure(kpi=kpis.KPIS["report_rate_1h"], value=None, status=status))
        for status in kpis.STATUS_LABELS
    }


def columns_with_values(points: list[kpis.RoundPoint], columns: list[kpis.Kpi]) -> list[kpis.Kpi]:
    """The columns some point has a value for (drills per person has none per round, participation none per
    quarter): a column of dashes tells the reader nothing."""
    return [kpi for kpi in columns if any(_has_value(point.figures, kpi) for point in points)]


def _has_value(figures: dict[str, kpis.Figure], kpi: kpis.Kpi) -> bool:
    return kpi.key in figures and figures[kpi.key].value is not None


def table(rows, columns: list[kpis.Kpi]) -> list[tuple]:
    """``(row, its cells in column order)`` for each row: templates cannot index a dict by a variable."""
    return [(row, cells(row.figures, columns)) for row in rows]


def _page_context(request, form: PeriodForm, fiscal_year: int) -> dict:
    """What every metrics page shows around its figures: the year selector, the menu, the export query."""
    context = tenancy(request)
    return {
        "form": form,
        "fiscal_year": fiscal_year,
        "fiscal_year_label": fiscal_year_label(fiscal_year),
        "export_query": urlencode({"fy": fiscal_year}),
        "department_url": reverse("metrics:department"),
        "show_ward_pages": context.has_role(*ORGANIZATION_WIDE_ROLES),
        "show_department": context.has_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER),
        "show_joint": context.has_role(Role.JOINT_ADMIN),
    }


def _dashboard_context(request, form: PeriodForm, dashboard: kpis.Dashboard) -> dict:
    round_columns = columns_with_values(dashboard.rounds, _columns(TREND_KPIS))
    quarter_columns = columns_with_values(dashboard.quarters, _columns(TREND_KPIS))
    breakdown_columns = _columns(BREAKDOWN_KPIS)
    return {
        **_page_context(request, form, dashboard.fiscal_year),
        "dashboard": dashboard,
        "year_choices": form.year_choices(dashboard.fiscal_years),
        "cards": kpi_cards(dashboard),
        "round_columns": round_columns,
        "quarter_columns": quarter_columns,
        "rounds": table(dashboard.rounds, round_columns),
        "quarters": table(dashboard.quarters, quarter_columns),
        "quarter_cards": quarter_charts(dashboard),
        "breakdown_columns": breakdown_columns,
        "departments": table(dashboard.departments, breakdown_columns),
        "positions": table(dashboard.positions, breakdown_columns),
        "employment_types": table(dashboard.employment_types, breakdown_columns),
        "freshness": freshness(dashboard.computed_at, dashboard.stale_seconds, dashboard.refreshing),
        "min_group_size": settings.METRICS_MIN_GROUP_SIZE,
        "may_refresh": tenancy(request).has_role(*REFRESH_ROLES),
    }


def _others_page(request):
    """Where a user without an organization-wide role belongs: the department view or the joint view."""
    context = tenancy(request)
    if context.has_role(Role.DEPT_MANAGER):
        return redirect("metrics:department")
    if context.has_role(Role.JOINT_ADMIN):
        return redirect("metrics:joint")
    raise PermissionDenied("role")


@require_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER, Role.JOINT_ADMIN)
@require_GET
def dashboard(request):
    """The ward's KPIs for a fiscal year: figures against targets, trends, breakdowns."""
    if not tenancy(request).has_role(*ORGANIZATION_WIDE_ROLES):
        return _others_page(request)
    form = PeriodForm(request.GET)
    data = kpis.ward_dashboard(current_organization(request), form.fiscal_year)
    return render(request, "metrics/dashboard.html", _dashboard_context(request, form, data))


@require_role(*REFRESH_ROLES)
@require_POST
def refresh(request):
    """「今すぐ再集計」: recompute the fiscal year's rollups of this ward now (audited)."""
    form = PeriodForm(request.POST)
    refresh_now(current_organization(request), form.fiscal_year, by=request.user, request=request)
    messages.success(request, _("%(year)sの数値を再集計しました。") % {"year": fiscal_year_label(form.fiscal_year)})
    return redirect(f"{reverse('metrics:dashboard')}?fy={form.fiscal_year}")


def recent_fiscal_years() -> list[int]:
    """The years offered where no list of years with data is at hand: this one and the four before it."""
    this_year = current_fiscal_year()
    return list(range(this_year - RECENT_YEARS, this_year + 1))


@require_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER)
@require_GET
def department(request):
    """A department's sub-tree: the dept_manager's own, or any one of the ward for the organization-wide roles."""
    form = PeriodForm(request.GET)
    if "department" in request.GET and form.department_id is None:
        raise Http404("department")
    own = managed_departments(request)
    chosen = department_asked_for(request, form.department_id)
    if chosen is None:
        # An organization-wide role without a choice yet, or a manager without a department: ask.
        departments = list(visible_departments(request).order_by("path"))
        return render(
            request,
            "metrics/department_choose.html",
            {**_page_context(request, form, form.fiscal_year), "departments": departments},
        )
    # A manager sees a round once it is closed (nobody warns their staff about a drill in progress).
    data = kpis.ward_dashboard(
        current_organization(request), form.fiscal_year, department=chosen, closed_only=not sees_whole_ward(request)
    )
    context = _dashboard_context(request, form, data)
    context.update(
        {
            "department": chosen,
            "own_departments": own,
            "may_refresh": False,
            "export_query": urlencode({"fy": data.fiscal_year, "department": chosen.public_id}),
            # Organization-wide roles see every department anyway; a manager's small team stays anonymous.
            "withheld": data.too_small and not tenancy(request).has_role(*ORGANIZATION_WIDE_ROLES),
        }
    )
    return render(request, "metrics/department.html", context)


def ranking_chart(rows: list[kpis.RankRow], key: str) -> Comparison:
    kpi = kpis.KPIS[key]
    labelled = tuple((row.label, row.figures[key].value if key in row.figures else None) for row in rows)
    chart_uri = comparison_chart_uri(labelled, kpi.unit, kpi.target, None, frozenset(), get_language())
    description = _("%(kpi)sの所属別の比較: %(values)s") % {
        "kpi": kpi.label,
        "values": "、".join(f"{label} {kpis.format_number(value, kpi.unit)}" for label, value in labelled),
    }
    return Comparison(kpi=kpi, chart_uri=chart_uri, chart_alt=description)


@require_role(*ORGANIZATION_WIDE_ROLES)
@require_GET
def ranking(request):
    """部署対抗: departments ranked by 1-hour report rate and time to report, then click rate; no individuals."""
    form = PeriodForm(request.GET)
    rows = kpis.department_ranking(current_organization(request), form.fiscal_year)
    return render(
        request,
        "metrics/ranking.html",
        {
            **_page_context(request, form, form.fiscal_year),
            "year_choices": form.year_choices(recent_fiscal_years()),
            "rows": table(rows, _columns(RANKING_KPIS)),
            "columns": _columns(RANKING_KPIS),
            "charts": [ranking_chart(rows, key) for key in ("report_rate_1h", "failure_rate")] if rows else [],
            "min_group_size": settings.METRICS_MIN_GROUP_SIZE,
        },
    )


def joint_label(row: kpis.JointRow) -> str:
    return _("%(ward)s（自区）") % {"ward": row.label} if row.is_own else row.label


def joint_chart(view: kpis.JointView, key: str) -> Comparison:
    kpi = kpis.KPIS[key]
    labelled = tuple((joint_label(row), row.figures[key].value if key in row.figures else None) for row in view.rows)
    average = view.average[key].value if key in view.average else None
    own = frozenset(joint_label(row) for row in view.rows if row.is_own)
    chart_uri = comparison_chart_uri(labelled, kpi.unit, kpi.target, average, own, get_language())
    description = _("%(kpi)sの区別の比較: %(values)s（平均 %(average)s）") % {
        "kpi": kpi.label,
        "values": "、".join(f"{label} {kpis.format_number(value, kpi.unit)}" for label, value in labelled),
        "average": kpis.format_number(average, kpi.unit),
    }
    return Comparison(kpi=kpi, chart_uri=chart_uri, chart_alt=description)


@require_role(Role.JOINT_ADMIN)
@require_GET
def joint(request):
    """All wards side by side, anonymised (区A, 区B …) except the viewer's own, with the wards' average."""
    form = PeriodForm(request.GET)
    view = kpis.joint_view(form.fiscal_year, viewer_organizations=viewer_organizations(request))
    columns = _columns(JOINT_KPIS)
    return render(
        request,
        "metrics/joint.html",
        {
            **_page_context(request, form, form.fiscal_year),
            "view": view,
            "year_choices": form.year_choices(recent_fiscal_years()),
            "columns": columns,
            "rows": [(joint_label(row), row, cells(row.figures, columns)) for row in view.rows],
            "average": cells(view.average, columns),
            "charts": [joint_chart(view, key) for key in JOINT_KPIS if key in kpis.KPIS] if view.rows else [],
            "freshness": freshness(view.computed_at, view.stale_seconds, view.refreshing),
        },
    )
