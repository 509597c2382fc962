"""Campaign results (訓練結果): the aggregates page, the people list with timelines, and the results index.

Who sees what:
- security_admin and CSIRT: everything, including each person's timeline;
- auditor: the aggregates (funnel, raw and automated hits, departments, employment types), no person;
- dept_manager: the aggregates of their own department's sub-tree, only once the campaign is closed (the
  results of a running drill would tell them it is on, and warning their staff would spoil it), with groups
  under ``SMALL_GROUP_MINIMUM`` recipients withheld.
"""

import functools
import operator
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mamori.core.models import Department, Membership
from mamori.core.scoping import for_organization, get_for_organization, people_visible_to, require_role, tenancy
from mamori.drills.forms.results import PeopleFilterForm, SummaryFilterForm
from mamori.drills.models import Campaign, Delivery
from mamori.drills.results import (
    SMALL_GROUP_MINIMUM,
    Verdict,
    delivered_to,
    duration_label,
    funnel_of,
    group_results,
    human_actions_of,
    human_failure,
    people_results,
    positions_of,
    reported,
    timeline_of,
)

Role = Membership.Role
ORGANIZATION_WIDE_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)
RESULT_ROLES = (*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER)
INDIVIDUAL_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT)
# Campaigns with mail out: a draft or a scheduled campaign has no results yet.
STATES_WITH_RESULTS = (Campaign.State.SENDING, Campaign.State.RUNNING, Campaign.State.CLOSED, Campaign.State.CANCELLED)
PEOPLE_PAGE_SIZE = 50


@dataclass
class Viewer:
    """What the requesting user may count: whose deliveries, which departments, how small a group."""

    people: QuerySet | None  # None: the whole organization
    departments: QuerySet
    withhold_below: int
    sees_individuals: bool
    closed_campaigns_only: bool


def _managed_departments(request) -> Q:
    """The dept_manager's own departments and their sub-trees, as a condition on Department."""
    context = tenancy(request)
    own = [
        membership.department
        for membership in context.memberships
        if membership.organization_id == context.organization.pk
        and membership.role == Role.DEPT_MANAGER
        and membership.department is not None
    ]
    return functools.reduce(operator.or_, (department.subtree_filter(prefix="") for department in own), Q(pk__in=[]))


def viewer_of(request) -> Viewer:
    context = tenancy(request)
    departments = for_organization(request, Department).order_by("path")
    if context.has_role(*ORGANIZATION_WIDE_ROLES):
        return Viewer(
            people=None,
            departments=departments,
            withhold_below=0,
            sees_individuals=context.has_role(*INDIVIDUAL_ROLES),
            closed_campaigns_only=False,
        )
    return Viewer(
        people=people_visible_to(request),
        departments=departments.filter(_managed_departments(request)),
        withhold_below=SMALL_GROUP_MINIMUM,
        sees_individuals=False,
        closed_campaigns_only=True,
    )


def _campaigns_for(request, viewer: Viewer) -> QuerySet:
    campaigns = for_organization(request, Campaign)
    if viewer.closed_campaigns_only:
        return campaigns.filter(state=Campaign.State.CLOSED)
    return campaigns


def _campaign(request, viewer: Viewer, campaign_id) -> Campaign:
    return get_for_organization(request, _campaigns_for(request, viewer), public_id=campaign_id)


def _template(request, page: str, partial: str) -> str:
    """The whole page, or only its results for the filter form's htmx swap."""
    return partial if request.htmx and request.htmx.target == "results-body" else page


@require_role(*RESULT_ROLES)
@require_GET
def results_index(request):
    """The campaigns with results, newest first, each with its headline figures (one query)."""
    viewer = viewer_of(request)
    mine = Q(deliveries__state=Delivery.State.SENT)
    if viewer.people is not None:
        mine &= Q(deliveries__person__in=viewer.people.values("pk"))
    campaigns = (
        _campaigns_for(request, viewer)
        .filter(state__in=STATES_WITH_RESULTS)
        .annotate(
            delivered=Count("deliveries", filter=mine),
            failed=Count("deliveries", filter=mine & human_failure("deliveries__")),
            reported=Count("deliveries", filter=mine & reported("deliveries__")),
        )
        .order_by("-fiscal_year", "-round_number")
    )
    return render(
        request,
        "drills/results_index.html",
        {"campaigns": campaigns, "withhold_below": viewer.withhold_below},
    )


@require_role(*RESULT_ROLES)
@require_GET
def campaign_results(request, campaign_id):
    """The funnel, raw and automated hits, reasons, then the department and employment-type tables."""
    viewer = viewer_of(request)
    campaign = _campaign(request, viewer, campaign_id)
    form = SummaryFilterForm(
        request.GET,
        departments=viewer.departments,
        positions=positions_of(delivered_to(campaign, people=viewer.people)),
    )
    filters = form.result_filter()
    deliveries = delivered_to(campaign, people=viewer.people, filters=filters)
    funnel = funnel_of(deliveries)
    groups = group_results(deliveries, level=form.selected_level, withhold_below=viewer.withhold_below)
    # The people list opens with the same filters (it has no level of its own).
    people_query = request.GET.copy()
    people_query.pop("level", None)
    context = {
        "campaign": campaign,
        "form": form,
        "filters": filters,
        "people_query": people_query.urlencode(),
        "funnel": funnel,
        "funnel_withheld": funnel.delivered < viewer.withhold_below,
        "groups": groups,
        "overall_median": duration_label(groups.overall_median_time_to_report),
        "viewer": viewer,
        "small_group_minimum": SMALL_GROUP_MINIMUM,
    }
    return render(request, _template(request, "drills/results.html", "drills/partials/results_body.html"), context)


@require_role(*INDIVIDUAL_ROLES)
@require_GET
def campaign_results_people(request, campaign_id):
    """Each recipient's timeline: sent, every hit with its verdict and reasons, reported. Paginated."""
    viewer = viewer_of(request)
    campaign = _campaign(request, viewer, campaign_id)
    form = PeopleFilterForm(request.GET, departments=viewer.departments, positions=positions_of(delivered_to(campaign)))
    deliveries = delivered_to(campaign, filters=form.result_filter())
    page = Paginator(people_results(deliveries, form.selected_outcome), PEOPLE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "campaign": campaign,
        "form": form,
        "page": page,
        "rows": [(delivery, human_actions_of(delivery), timeline_of(delivery)) for delivery in page],
        "query_without_page": query.urlencode(),
        "verdicts": Verdict,
    }
    return render(
        request,
        _template(request, "drills/results_people.html", "drills/partials/results_people_body.html"),
        context,
    )
