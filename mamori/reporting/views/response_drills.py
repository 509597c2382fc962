"""Pages of the response drills (初動対応訓練) and the near-miss counts, for the organization's staff roles.

A security_admin starts and closes drills; a security_admin or CSIRT member acknowledges, for
情報システム課, that a participant's report reached them.
"""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mamori.core.models import Department, Membership
from mamori.core.scoping import current_organization, for_organization, get_for_organization, require_role
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_bounds, fiscal_year_label
from mamori.reporting import response_drills
from mamori.reporting.forms import ResponseDrillForm
from mamori.reporting.models import NearMiss, ResponseDrill

Role = Membership.Role
VIEW_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT)


@require_role(*VIEW_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def drill_list(request: HttpRequest) -> HttpResponse:
    """The organization's response drills, and the form that starts one (security_admin only)."""
    organization = current_organization(request)
    can_start = request.tenancy.has_role(Role.SECURITY_ADMIN)
    form = None
    if can_start:
        form = ResponseDrillForm(request.POST or None, organization=organization)
        if request.method == "POST" and form.is_valid():
            drill = response_drills.start_response_drill(
                organization,
                scenario=form.cleaned_data["scenario"],
                title=form.cleaned_data["title"],
                people=form.cleaned_data["people"],
                by=request.user,
                request=request,
            )
            return redirect("reporting:response-drill", drill.public_id)
    elif request.method == "POST":
        return HttpResponse(status=403)
    drills = for_organization(request, ResponseDrill).annotate(
        people=Count("participants"),
        person_reports=Count("participants", filter=Q(participants__person_report__isnull=False)),
        manager_reports=Count("participants", filter=Q(participants__manager_report__isnull=False)),
    )
    context = {"drills": drills, "form": form}
    return render(request, "reporting/response_drill_list.html", context)


@require_role(*VIEW_ROLES)
@require_safe
def drill_detail(request: HttpRequest, drill_id) -> HttpResponse:
    drill = get_for_organization(request, ResponseDrill, public_id=drill_id)
    rows = response_drills.chain_rows(drill)
    context = {
        "drill": drill,
        "rows": rows,
        "summary": response_drills.summary(rows),
        "can_close": request.tenancy.has_role(Role.SECURITY_ADMIN) and drill.is_open,
    }
    return render(request, "reporting/response_drill_detail.html", context)


@require_role(*VIEW_ROLES)
@require_POST
def acknowledge(request: HttpRequest, drill_id, participant_id) -> HttpResponse:
    """情報システム課 received this participant's report (the chain's last step)."""
    drill = get_for_organization(request, ResponseDrill, public_id=drill_id)
    participant = get_object_or_404(drill.participants.select_related("drill__organization"), public_id=participant_id)
    if response_drills.acknowledge(participant, by=request.user, request=request):
        messages.success(request, _("%(name)s さんの報告を受領しました。") % {"name": participant.person.name})
    return redirect("reporting:response-drill", drill.public_id)


@require_role(Role.SECURITY_ADMIN)
@require_POST
def close(request: HttpRequest, drill_id) -> HttpResponse:
    """End the drill: later reports through its links are filed as ordinary reports."""
    drill = get_for_organization(request, ResponseDrill, public_id=drill_id)
    response_drills.close_response_drill(drill, by=request.user, request=request)
    messages.success(request, _("初動対応訓練を終了しました。"))
    return redirect("reporting:response-drill", drill.public_id)


def fiscal_year_from(request: HttpRequest) -> int:
    """The fiscal year asked for (?fy=2026), within a sane range; the current one otherwise."""
    current = current_fiscal_year()
    try:
        asked = int(request.GET.get("fy", ""))
    except ValueError:
        return current
    return asked if 2000 <= asked <= current else current


@require_role(Role.SECURITY_ADMIN, Role.CSIRT)
@require_safe
def near_miss_summary(request: HttpRequest) -> HttpResponse:
    """Near misses (ヒヤリハット) of a fiscal year counted per department and kind: one grouped query."""
    fiscal_year = fiscal_year_from(request)
    start, end = fiscal_year_bounds(fiscal_year)
    kinds = NearMiss.Kind.choices
    counts = (
        for_organization(request, NearMiss)
        .filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("department")
        .annotate(total=Count("pk"), **{kind: Count("pk", filter=Q(kind=kind)) for kind, _label in kinds})
        .order_by("-total")
    )
    departments = {
        department.pk: department
        for department in for_organization(request, Department).filter(pk__in=[row["department"] for row in counts])
    }
    rows = [
        {
            "department": departments.get(row["department"]),
            "total": row["total"],
            "by_kind": [row[kind] for kind, _label in kinds],
        }
        for row in counts
    ]
    context = {
        "rows": rows,
        "kinds": [label for _kind, label in kinds],
        "total": sum(row["total"] for row in rows),
        "fiscal_year": fiscal_year,
        "fiscal_year_label": fiscal_year_label(fiscal_year),
        "previous_year": fiscal_year - 1,
        "next_year": fiscal_year + 1 if fiscal_year < current_fiscal_year() else None,
    }
    return render(request, "reporting/near_miss_summary.html", context)
