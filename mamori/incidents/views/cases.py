"""The ward's case file: the list, opening a case (by hand or from a report), the case page and its edits.

csirt and security_admin work on cases; the auditor reads them. The list costs the same number of queries
whatever the number of cases (the flags are subqueries, the page is paginated).
"""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mamori.core.scoping import current_organization, for_organization, get_for_organization, require_role
from mamori.incidents import actions
from mamori.incidents.forms import CaseFilterForm, CaseForm, SourceCaseForm, TransitionForm
from mamori.incidents.models import Case, Task
from mamori.incidents.views import panels
from mamori.incidents.views.access import EDIT_ROLES, VIEW_ROLES, WARD, case_for, is_joint_body, ward_cases
from mamori.reporting.models import IncidentReport, Report, ReportCluster

PAGE_SIZE = 50
# The 5W1H reports offered on the "new case" page: the latest ones no case was opened from yet.
RECENT_INCIDENT_REPORTS = 20
State = Case.State


def open_tasks():
    return Task.objects.filter(case=OuterRef("pk"), done_at__isnull=True, cancelled_at__isnull=True)


def cases_with_flags(cases, now):
    """Annotate each case with the next legal-clock due date and whether any of its open tasks is overdue."""
    legal = open_tasks().filter(kind__in=Task.LEGAL_KINDS).order_by("due_at").values("due_at")[:1]
    return cases.annotate(
        legal_due_at=Subquery(legal),
        has_overdue_tasks=Exists(open_tasks().filter(due_at__lt=now)),
    )


@require_GET
@require_role(*VIEW_ROLES)
def case_list(request):
    if is_joint_body(current_organization(request)):
        # A joint body has no cases of its own: its work is the cases the wards granted to it.
        return redirect("incidents:joint-list")
    now = timezone.now()
    filters = CaseFilterForm(request.GET or None)
    cases = filters.filter(ward_cases(request)).select_related("assignee").order_by("-detected_at", "-id")
    page = Paginator(cases_with_flags(cases, now), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/case_list.html",
        {"page": page, "filters": filters, "query": query.urlencode(), "now": now, "can_edit": _can_edit(request)},
    )


def _can_edit(request) -> bool:
    return request.tenancy.has_role(*EDIT_ROLES)


# Opening ------------------------------------------------------------------------------------------------------


def _source(request):
    """The triage item, reported mail or 5W1H report named in the query (of this organization), if any."""
    for name, model in (("cluster", ReportCluster), ("report", Report), ("incident_report", IncidentReport)):
        value = request.GET.get(name)
        if value:
            return name, get_for_organization(request, model, public_id=_uuid_or_404(value))
    return None, None


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise Http404("bad id") from error


def _source_initial(kind: str, source) -> dict:
    """What the form proposes for a source: its subject as the title and the category it suggests."""
    if kind == "incident_report":
        first_line = next((line for line in source.what.splitlines() if line.strip()), "")
        return {"title": first_line[:200] or source.where[:200], "category": Case.Category.OTHER}
    subject = source.subject if kind == "cluster" else source.subject or source.envelope_subject
    return {"title": subject[:200], "category": Case.Category.TARGETED_MAIL}


def _existing_cases(request, kind: str, source):
    field = {"cluster": "source_cluster", "report": "source_report", "incident_report": "source_incident_report"}[kind]
    return ward_cases(request).filter(**{field: source}).order_by("created_at")


def _open_from_source(kind: str, source, request, fields: dict) -> Case:
    opener = {
        "cluster": actions.open_case_from_cluster,
        "report": actions.open_case_from_report,
        "incident_report": actions.open_case_from_incident_report,
    }[kind]
    return opener(source, actor=request.user, request=request, **fields)


@require_http_methods(["GET", "POST"])
@require_role(*EDIT_ROLES)
def case_new(request):
    organization = current_organization(request)
    kind, source = _source(request)
    if source is not None:
        form = SourceCaseForm(request.POST or None, organization=organization, initial=_source_initial(kind, source))
    else:
        form = CaseForm(request.POST or None, organization=organization, initial={"detected_at": _now_local()})
    if request.method == "POST" and form.is_valid():
        try:
            case = _open(request, form, kind, source)
        except actions.IncidentActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("事案 %(reference)s を登録しました。") % {"reference": case.reference})
            return redirect("incidents:case-detail", case_id=case.public_id)
    context = {"form": form, "source_kind": kind, "source": source, "case": None}
    if source is not None:
        context["existing"] = list(_existing_cases(request, kind, source))
    else:
        context["incident_reports"] = _recent_incident_reports(request)
    return render(request, "incidents/case_form.html", context)


def _open(request, form, kind, source) -> Case:
    organization = current_organization(request)
    if source is not None:
        return _open_from_source(kind, source, request, dict(form.cleaned_data))
    # Opening takes the core facts; the rest of the form (people, personal data, outage) follows at once.
    with transaction.atomic():
        case = actions.open_case(organization, actor=request.user, request=request, **form.opening_fields())
        later = {name: value for name, value in form.later_fields().items() if value not in (None, "", [], False, 0)}
        if later:
            actions.update_case(case, actor=request.user, organization=organization, request=request, **later)
    return case


def _now_local():
    return timezone.localtime(timezone.now()).replace(second=0, microsecond=0)


def _recent_incident_reports(request) -> list[IncidentReport]:
    """The latest 5W1H reports no case was opened from, to open one from them."""
    with_case = Case.objects.filter(source_incident_report=OuterRef("pk"))
    return list(
        for_organization(request, IncidentReport)
        .exclude(Exists(with_case))
        .select_related("reporter", "department")
        .order_by("-submitted_at")[:RECENT_INCIDENT_REPORTS]
    )


# The case page ------------------------------------------------------------------------------------------------


@require_GET
@require_role(*VIEW_ROLES)
def case_detail(request, case_id):
    return panels.render_case_page(request, case_for(request, case_id, WARD), WARD)


@require_http_methods(["GET", "POST"])
@require_role(*EDIT_ROLES)
def case_edit(request, case_id):
    case = case_for(request, case_id, WARD)
    organization = current_organization(request)
    form = CaseForm(request.POST or None, organization=organization, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_case(
                case, actor=request.user, organization=organization, request=request, **form.later_fields()
            )
        except actions.IncidentActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("事案の内容を保存しました。"))
            return redirect("incidents:case-detail", case_id=case.public_id)
    return render(request, "incidents/case_form.html", {"form": form, "case": case})


@require_POST
@require_role(*EDIT_ROLES)
def case_transition(request, case_id):
    case = case_for(request, case_id, WARD)
    closing = request.POST.get("to_state") == State.CLOSED
    form = (panels.closing_form(case, request.POST) if closing else None) or TransitionForm(request.POST, case=case)
    if not form.is_valid():
        forms = {"closing_form": form} if closing else {}
        for error in form.non_field_errors() if closing else [*form.non_field_errors(), *form.errors.values()]:
            messages.error(request, error if isinstance(error, str) else " ".join(error))
        return panels.render_case_page(request, case, WARD, status=400, **forms)
    data = form.cleaned_data
    try:
        actions.transition(
            case,
            data["to_state"],
            actor=request.user,
            organization=current_organization(request),
            note=data["note"],
            resolution=data["resolution"],
            resolution_note=data["note"] if closing else "",
            request=request,
        )
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
        return redirect("incidents:case-detail", case_id=case.public_id)
    messages.success(request, _("状態を「%(state)s」にしました。") % {"state": case.get_state_display()})
    return redirect("incidents:case-detail", case_id=case.public_id)
