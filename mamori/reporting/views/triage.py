"""The triage queue (csirt and security_admin): clusters of reported mail, their reports, and verdicts.

Everything attacker-written is shown as text and defanged; the original is only offered as a download.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mamori.core.audit import record
from mamori.core.models import Membership
from mamori.core.scoping import for_organization, get_for_organization, require_role
from mamori.reporting import actions
from mamori.reporting.display import defang, defang_text
from mamori.reporting.models import OriginalMessage, Report, ReportCluster
from mamori.reporting.triage_forms import VerdictForm

TRIAGE_ROLES = (Membership.Role.SECURITY_ADMIN, Membership.Role.CSIRT)
PAGE_SIZE = 50
# A cluster page lists at most this many of its reports (a mass phish may bring hundreds).
CLUSTER_REPORTS_SHOWN = 200
Verdict = ReportCluster.Verdict


def _verdict_filter(request) -> str:
    """The verdict asked for; pending (the work still to do) by default, "all" for everything."""
    wanted = request.GET.get("verdict", Verdict.PENDING)
    return wanted if wanted in Verdict.values or wanted == "all" else Verdict.PENDING


@require_GET
@require_role(*TRIAGE_ROLES)
def cluster_list(request):
    verdict = _verdict_filter(request)
    clusters = for_organization(request, ReportCluster).order_by("-last_reported_at")
    counts = dict(clusters.order_by().values_list("verdict").annotate(count=Count("pk")))
    if verdict != "all":
        clusters = clusters.filter(verdict=verdict)
    page = Paginator(clusters, PAGE_SIZE).get_page(request.GET.get("page"))
    attention = for_organization(request, Report).filter(state=Report.State.NEEDS_ATTENTION).count()
    tabs = [(value, label, counts.get(value, 0)) for value, label in Verdict.choices]
    return render(
        request,
        "reporting/triage_list.html",
        {"page": page, "verdict": verdict, "tabs": tabs, "total": sum(counts.values()), "attention": attention},
    )


@require_GET
@require_role(*TRIAGE_ROLES)
def attention_list(request):
    reports = (
        for_organization(request, Report)
        .filter(state=Report.State.NEEDS_ATTENTION)
        .select_related("reporter", "original")
        .defer("original__content")
        .order_by("-received_at")
    )
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reporting/attention_list.html", {"page": page})


def _cluster(request, cluster_id) -> ReportCluster:
    return get_for_organization(request, ReportCluster.objects.select_related("verdict_by"), public_id=cluster_id)


def _indicators(report: Report) -> dict:
    """What a triager reads of one report, defanged."""
    return {
        "urls": [defang(url) for url in report.urls],
        "domains": [defang(domain) for domain in report.domains],
        "ips": [defang(ip) for ip in report.ips],
        "addresses": [defang(address) for address in report.addresses],
        "from_address": defang(report.from_address),
        "reply_to": defang(report.reply_to),
        "return_path": defang(report.return_path),
        "text_excerpt": defang_text(report.text_excerpt),
    }


@require_GET
@require_role(*TRIAGE_ROLES)
def cluster_detail(request, cluster_id):
    cluster = _cluster(request, cluster_id)
    reports = list(
        cluster.reports.select_related("reporter__department").order_by("received_at")[:CLUSTER_REPORTS_SHOWN]
    )
    sample = reports[0] if reports else None
    form = VerdictForm(initial={"verdict": cluster.verdict, "note": cluster.verdict_note})
    return render(
        request,
        "reporting/cluster_detail.html",
        {
            "cluster": cluster,
            "reports": reports,
            "sample": sample,
            "indicators": _indicators(sample) if sample else None,
            "form": form,
        },
    )


@require_POST
@require_role(*TRIAGE_ROLES)
def cluster_verdict(request, cluster_id):
    cluster = _cluster(request, cluster_id)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("判定を選んでください。"))
        return redirect("reporting:cluster", cluster_id=cluster.public_id)
    actions.set_verdict(
        cluster, form.cleaned_data["verdict"], note=form.cleaned_data["note"], by=request.user, request=request
    )
    messages.success(request, _("判定を「%(verdict)s」にしました。") % {"verdict": cluster.get_verdict_display()})
    return redirect("reporting:cluster", cluster_id=cluster.public_id)


def _report(request, report_id) -> Report:
    queryset = Report.objects.select_related(
        "reporter__department", "cluster", "delivery__campaign", "delivery__person", "original"
    ).defer("original__content")
    return get_for_organization(request, queryset, public_id=report_id)


@require_GET
@require_role(*TRIAGE_ROLES)
def report_detail(request, report_id):
    report = _report(request, report_id)
    return render(request, "reporting/report_detail.html", {"report": report, "indicators": _indicators(report)})


@require_GET
@require_role(*TRIAGE_ROLES)
def report_original(request, report_id):
    """The original bytes as a download (never rendered: it may carry the attack itself)."""
    report = _report(request, report_id)
    content = bytes(OriginalMessage.objects.filter(report=report).values_list("content", flat=True).get())
    record("reporting.original_downloaded", organization=report.organization, request=request, target=report)
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="report-{report.public_id}.eml"'
    return response
