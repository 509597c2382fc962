"""The export downloads: the ward's (or a department's) figures and the joint view, as XLSX, CSV and PDF.

Same roles and scoping as the pages (``mamori.metrics.access``): security_admin, CSIRT and auditor export the
whole ward (with the 部署対抗 ranking) or any department; a dept_manager exports their own sub-tree only,
and nothing when it is below the minimum group size (the page withholds it too); joint_admin exports the
joint view, anonymised. The fiscal year and department come in the query string (?fy=2026&department=…).
Each download is audited: the figures leave mamori.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mamori.core.audit import record
from mamori.core.scoping import current_organization, require_role
from mamori.metrics import exports, kpis
from mamori.metrics.access import (
    ORGANIZATION_WIDE_ROLES,
    Role,
    department_asked_for,
    sees_whole_ward,
    viewer_organizations,
)
from mamori.metrics.forms import PeriodForm


def download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def csv_encoding(request) -> str | None:
    """``?encoding=utf-8`` (the default, with a BOM) or ``cp932``; None for anything else."""
    encoding = request.GET.get("encoding", "utf-8").lower().replace("_", "-")
    encoding = {"sjis": "cp932", "shift-jis": "cp932", "utf8": "utf-8"}.get(encoding, encoding)
    return encoding if encoding in exports.CSV_ENCODINGS else None


def people_reached(dashboard: kpis.Dashboard) -> int:
    return max((point.delivered for point in dashboard.rounds), default=0)


def ward_data(request):
    """(organization, dashboard, ranking, department) for the user, or a redirect when withheld.

    A department the user may not see is a 404, as on the department page.
    """
    form = PeriodForm(request.GET)
    if "department" in request.GET and form.department_id is None:
        raise Http404("department")
    organization = current_organization(request)
    department = department_asked_for(request, form.department_id)
    if department is None and not sees_whole_ward(request):
        raise Http404("department")
    whole_ward = sees_whole_ward(request)
    # As on the department page: a manager's figures leave out rounds still under way.
    dashboard = kpis.ward_dashboard(organization, form.fiscal_year, department=department, closed_only=not whole_ward)
    if not whole_ward and dashboard.has_data and people_reached(dashboard) < settings.METRICS_MIN_GROUP_SIZE:
        messages.error(
            request,
            _("対象の人数が%(size)s人未満のため、個人が特定されないよう数値を出力できません。")
            % {"size": settings.METRICS_MIN_GROUP_SIZE},
        )
        query = urlencode({"fy": form.fiscal_year, "department": department.public_id})
        return redirect(f"{reverse('metrics:department')}?{query}")
    ranking = kpis.department_ranking(organization, form.fiscal_year) if whole_ward and department is None else None
    return organization, dashboard, ranking, department


def ward_export(request, kind: str):
    data = ward_data(request)
    if isinstance(data, HttpResponse):
        return data
    organization, dashboard, ranking, department = data
    export = exports.ward_export(organization, dashboard, ranking, department)
    if kind == "xlsx":
        content, content_type, suffix = exports.to_xlsx(export), exports.XLSX_CONTENT_TYPE, "xlsx"
    elif kind == "csv":
        encoding = csv_encoding(request)
        if encoding is None:
            return HttpResponse(
                _("文字コードは utf-8 または cp932 を指定してください。"), status=400, content_type="text/plain"
            )
        content, content_type = exports.to_csv(export, encoding), f"{exports.CSV_CONTENT_TYPE}; charset={encoding}"
        suffix = "csv"
    else:
        scope = str(department) if department is not None else organization.name
        content, content_type, suffix = (
            exports.ward_pdf(export, dashboard, ranking, scope),
            exports.PDF_CONTENT_TYPE,
            "pdf",
        )
    record(
        "metrics.exported",
        organization=organization,
        request=request,
        target=str(department) if department is not None else organization.name,
        format=suffix,
        fiscal_year=dashboard.fiscal_year,
    )
    return download(content, content_type, f"{export.file_stem}.{suffix}")


@require_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER)
@require_GET
def export_xlsx(request):
    """The fiscal year's figures as a workbook: a sheet per section, with native Excel charts."""
    return ward_export(request, "xlsx")


@require_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER)
@require_GET
def export_csv(request):
    """The fiscal year's figures as one long CSV table (?encoding=utf-8 with BOM, or cp932)."""
    return ward_export(request, "csv")


@require_role(*ORGANIZATION_WIDE_ROLES, Role.DEPT_MANAGER)
@require_GET
def report_pdf(request):
    """The council report: title page, KPIs against targets, trend charts, ranking, definitions."""
    return ward_export(request, "pdf")


def joint_export(request, kind: str):
    form = PeriodForm(request.GET)
    view = kpis.joint_view(form.fiscal_year, viewer_organizations=viewer_organizations(request))
    export = exports.joint_export(view)
    if kind == "xlsx":
        content, content_type = exports.to_xlsx(export), exports.XLSX_CONTENT_TYPE
    elif kind == "csv":
        encoding = csv_encoding(request)
        if encoding is None:
            return HttpResponse(
                _("文字コードは utf-8 または cp932 を指定してください。"), status=400, content_type="text/plain"
            )
        content, content_type = exports.to_csv(export, encoding), f"{exports.CSV_CONTENT_TYPE}; charset={encoding}"
    else:
        content, content_type = exports.joint_pdf(export, view), exports.PDF_CONTENT_TYPE
    record(
        "metrics.joint_exported",
        organization=current_organization(request),
        request=request,
        target=exports.fiscal_year_label(view.fiscal_year),
        format=kind,
    )
    return download(content, content_type, f"{export.file_stem}.{kind}")


@require_role(Role.JOINT_ADMIN)
@require_GET
def joint_xlsx(request):
    return joint_export(request, "xlsx")


@require_role(Role.JOINT_ADMIN)
@require_GET
def joint_csv(request):
    return joint_export(request, "csv")


@require_role(Role.JOINT_ADMIN)
@require_GET
def joint_pdf(request):
    return joint_export(request, "pdf")
