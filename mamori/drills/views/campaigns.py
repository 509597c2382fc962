"""Campaign pages: the list per fiscal year, the draft form, the detail with audience and progress, actions,
and the fiscal-year plan.

security_admin manages campaigns; csirt and auditor see them. A dept_manager sees no campaign (knowing a
drill's date in advance would spoil it for their staff) but sees the plan of their own department.
"""

import math
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mamori.core.models import Membership, Person
from mamori.core.scoping import (
    current_organization,
    for_organization,
    get_for_organization,
    people_visible_to,
    require_role,
)
from mamori.core.search import people_matching
from mamori.drills.actions import campaigns as actions
from mamori.drills.audience import address_in_domains, criteria_of, preview_audience
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_label, today_in_japan
from mamori.drills.forms.campaigns import CampaignForm
from mamori.drills.models import Campaign, Delivery
from mamori.drills.plan import LEVELS, department_label, fiscal_year_plan
from mamori.drills.schedule import business_days, closed_weekdays, estimate_finish

Role = Membership.Role
VIEW_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)
PLAN_ROLES = (*VIEW_ROLES, Role.DEPT_MANAGER)
# States in which mail may still go out, so the progress panel keeps polling.
SENDING_STATES = frozenset({Campaign.State.SCHEDULED, Campaign.State.SENDING})
PROGRESS_POLL_SECONDS = 5
PEOPLE_SEARCH_LIMIT = 20
MISSED_PAGE_SIZE = 50
EARLIEST_FISCAL_YEAR = 2000


def _selected_fiscal_year(request) -> int:
    """The ``year`` asked for, if it is a plausible fiscal year; the current one otherwise."""
    current = current_fiscal_year()
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return current
    return year if EARLIEST_FISCAL_YEAR <= year <= current + 1 else current


def _fiscal_years(request, selected: int) -> list[int]:
    """The years with campaigns, the current one and the selected one, newest first."""
    years = set(for_organization(request, Campaign).values_list("fiscal_year", flat=True).distinct())
    years.update({current_fiscal_year(), selected})
    return sorted(years, reverse=True)


def _campaign(request, campaign_id) -> Campaign:
    queryset = for_organization(request, Campaign).select_related("sending_profile")
    return get_for_organization(request, queryset, public_id=campaign_id)


@require_role(*PLAN_ROLES)
def campaign_list(request):
    if not request.tenancy.has_role(*VIEW_ROLES):
        # The 訓練 menu leads a dept_manager to what they may see: their department's plan.
        return redirect("drills:plan")
    year = _selected_fiscal_year(request)
    campaigns = (
        for_organization(request, Campaign)
        .filter(fiscal_year=year)
        .order_by("round_number")
        .annotate(
            recipients=Count("deliveries"),
            sent=Count("deliveries", filter=Q(deliveries__state=Delivery.State.SENT)),
            queued=Count("deliveries", filter=Q(deliveries__state=Delivery.State.QUEUED)),
            failed=Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED)),
        )
    )
    return render(
        request,
        "drills/campaign_list.html",
        {
            "campaigns": campaigns,
            "year": year,
            "year_label": fiscal_year_label(year),
            "years": [(y, fiscal_year_label(y)) for y in _fiscal_years(request, year)],
        },
    )


@require_role(Role.SECURITY_ADMIN)
def campaign_create(request):
    organization = current_organization(request)
    form = CampaignForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        campaign = actions.save_draft(form, by=request.user, request=request)
        messages.success(request, _("「%(name)s」を下書きとして保存しました。") % {"name": campaign.display_name})
        return redirect("drills:campaign-detail", campaign_id=campaign.public_id)
    return render(request, "drills/campaign_form.html", {"form": form, "campaign": None})


@require_role(Role.SECURITY_ADMIN)
def campaign_edit(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    if campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("開始した訓練実施回の設定と対象者は変更できません。"))
        return redirect("drills:campaign-detail", campaign_id=campaign.public_id)
    form = CampaignForm(request.POST or None, instance=campaign, organization=current_organization(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_draft(form, by=request.user, request=request)
        except actions.CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("「%(name)s」を保存しました。") % {"name": campaign.display_name})
        return redirect("drills:campaign-detail", campaign_id=campaign.public_id)
    return render(request, "drills/campaign_form.html", {"form": form, "campaign": campaign})


@dataclass
class Progress:
    """The sending progress of a launched campaign, from one aggregate query."""

    total: int
    sent: int
    queued: int
    failed: int
    cancelled: int
    overdue: int
    next_send: object
    finish: object

    @property
    def done_percent(self) -> int:
        return math.floor(100 * (self.total - self.queued) / self.total) if self.total else 0


def campaign_progress_of(campaign: Campaign) -> Progress:
    now = timezone.now()
    queued = Q(state=Delivery.State.QUEUED)
    counts = Delivery.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(state=Delivery.State.SENT)),
        queued=Count("pk", filter=queued),
        failed=Count("pk", filter=Q(state=Delivery.State.FAILED)),
        cancelled=Count("pk", filter=Q(state=Delivery.State.CANCELLED)),
        overdue=Count("pk", filter=queued & Q(scheduled_at__lte=now)),
        next_send=Min("scheduled_at", filter=queued),
        last_send=Max("scheduled_at", filter=queued),
    )
    last_send = counts.pop("last_send")
    finish = None
    if not campaign.is_paused:
        finish = estimate_finish(
            queued=counts["queued"],
            last_scheduled=last_send,
            rate_per_minute=campaign.sending_profile.rate_per_minute,
            now=now,
        )
    return Progress(**counts, finish=finish)


@require_role(*VIEW_ROLES)
@require_GET
def campaign_progress(request, campaign_id):
    """The live progress: the whole page, or (for htmx polling) only the panel."""
    campaign = _campaign(request, campaign_id)
    context = {
        "campaign": campaign,
        "progress": campaign_progress_of(campaign),
        "poll": campaign.state in SENDING_STATES and not campaign.is_paused,
        "poll_seconds": PROGRESS_POLL_SECONDS,
    }
    template = "drills/partials/campaign_progress.html" if request.htmx else "drills/campaign_progress.html"
    return render(request, template, context)


def _rate_shortfall(campaign: Campaign, recipients: int, business_minutes: int) -> int | None:
    """The mails per minute needed when the profile's rate cannot send everyone within the window."""
    rate = campaign.sending_profile.rate_per_minute
    if not rate or not recipients:
        return None
    needed = math.ceil(recipients / business_minutes) if business_minutes else recipients
    return needed if needed > rate else None


def _department_rows(rows, path_key: str) -> list[dict]:
    return [{"label": department_label(row[path_key]), "people": row["people"]} for row in rows]


@require_role(*VIEW_ROLES)
def campaign_detail(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    window = actions.window_of(campaign)
    days = business_days(campaign.starts_on, campaign.ends_on) if not window.errors() else []
    context = {
        "campaign": campaign,
        "scenarios": campaign.scenarios.all(),
        "business_days": days,
        "closed_weekdays": closed_weekdays(campaign.starts_on, campaign.ends_on),
        "is_draft": campaign.state == Campaign.State.DRAFT,
        "can_manage": request.tenancy.has_role(Role.SECURITY_ADMIN),
        "can_pause": campaign.state in actions.PAUSABLE_STATES and not campaign.is_paused,
        "can_resume": campaign.is_paused,
        "can_cancel": campaign.state in actions.CANCELLABLE_STATES,
        "can_close": campaign.state in actions.CLOSABLE_STATES,
    }
    if campaign.state == Campaign.State.DRAFT:
        criteria = criteria_of(campaign)
        preview = preview_audience(campaign.organization, criteria)
        employment_labels = dict(Person.EmploymentType.choices)
        context.update(
            preview=preview,
            department_rows=_department_rows(preview.by_department, "department__path"),
            criteria=criteria,
            employment_type_labels=[employment_labels.get(value, value) for value in criteria.employment_types],
            included=campaign.included_people.select_related("department"),
            excluded=campaign.excluded_people.select_related("department"),
            rate_needed=_rate_shortfall(campaign, preview.total, window.business_minutes(timezone.now())),
        )
    else:
        deliveries = Delivery.objects.filter(campaign=campaign).order_by()
        context.update(
            department_rows=_department_rows(
                deliveries.values("person__department__path")
                .annotate(people=Count("pk"))
                .order_by("person__department__path"),
                "person__department__path",
            ),
            by_scenario=deliveries.values("scenario__name").annotate(people=Count("pk")).order_by("scenario__name"),
            progress=campaign_progress_of(campaign),
            poll=campaign.state in SENDING_STATES and not campaign.is_paused,
            poll_seconds=PROGRESS_POLL_SECONDS,
        )
    return render(request, "drills/campaign_detail.html", context)


def _run(request, campaign: Campaign, action, success: str):
    try:
        action(campaign, request.user, request)
    except actions.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % {"name": campaign.display_name})
    return redirect("drills:campaign-detail", campaign_id=campaign.public_id)


@require_role(Role.SECURITY_ADMIN)
def campaign_launch(request, campaign_id):
    """GET: the confirmation (who, when, how many); POST: launch."""
    campaign = _campaign(request, campaign_id)
    if request.method == "POST":
        return _run(request, campaign, actions.launch_campaign, _("「%(name)s」を開始しました。送信を予約しました。"))
    preview = preview_audience(campaign.organization, criteria_of(campaign))
    return render(
        request,
        "drills/campaign_confirm.html",
        {
            "campaign": campaign,
            "action": "launch",
            "preview": preview,
            "business_days": business_days(campaign.starts_on, campaign.ends_on),
        },
    )


@require_role(Role.SECURITY_ADMIN)
def campaign_cancel(request, campaign_id):
    """GET: the confirmation; POST: cancel every mail not sent yet."""
    campaign = _campaign(request, campaign_id)
    if request.method == "POST":
        return _run(request, campaign, actions.cancel_campaign, _("「%(name)s」を中止しました。"))
    queued = Delivery.objects.filter(campaign=campaign, state=Delivery.State.QUEUED).count()
    return render(request, "drills/campaign_confirm.html", {"campaign": campaign, "action": "cancel", "queued": queued})


@require_role(Role.SECURITY_ADMIN)
@require_POST
def campaign_pause(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    return _run(request, campaign, actions.pause_campaign, _("「%(name)s」の送信を一時停止しました。"))


@require_role(Role.SECURITY_ADMIN)
@require_POST
def campaign_resume(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    return _run(request, campaign, actions.resume_campaign, _("「%(name)s」の送信を再開しました。"))


@require_role(Role.SECURITY_ADMIN)
@require_POST
def campaign_close(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    return _run(request, campaign, actions.close_campaign, _("「%(name)s」を終了しました。"))


@require_role(Role.SECURITY_ADMIN)
@require_GET
def people_search(request):
    """Staff matching a search, to find the employee numbers for the campaign form's explicit people.

    The form shows the results in place (htmx); without JavaScript they open as a page in a new tab, so the
    form keeps what was typed.
    """
    text = request.GET.get("q", "").strip()
    people = Person.objects.none()
    if text:
        people = people_matching(for_organization(request, Person).filter(active=True), text)
        people = people.select_related("department").order_by("employee_number")[:PEOPLE_SEARCH_LIMIT]
    domains = current_organization(request).verified_domain_names()
    rows = [(person, address_in_domains(person.email, domains)) for person in people]
    template = "drills/partials/campaign_people_search.html" if request.htmx else "drills/campaign_people_search.html"
    return render(request, template, {"rows": rows, "query": text})


@require_role(*PLAN_ROLES)
def plan(request):
    """The fiscal-year plan: rounds received per person against the target of four, and who was missed."""
    year = _selected_fiscal_year(request)
    try:
        level = int(request.GET.get("level", "1"))
    except ValueError:
        level = 1
    level = level if level in LEVELS else 1
    report = fiscal_year_plan(
        current_organization(request), people_visible_to(request), year, as_of=today_in_japan(), level=level
    )
    page = Paginator(report.missed, MISSED_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "drills/plan.html",
        {
            "report": report,
            "page": page,
            "year": year,
            "year_label": fiscal_year_label(year),
            "years": [(y, fiscal_year_label(y)) for y in _fiscal_years(request, year)],
            "level": level,
            "levels": LEVELS.items(),
            "query_without_page": query.urlencode(),
        },
    )
