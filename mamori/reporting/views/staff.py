"""The staff report pages: no account needed, reachable from LGWAN terminals.

First the first-5-minutes guidance and the organization's own rules, then the 5W1H form (with an optional
pasted mail or .eml, which goes through the one ingest path), and the short near-miss form. How the page
knows the organization and the reporter is written in ``mamori.reporting.staff_reports``.

These are real form pages opened in a browser, so CSRF protection stays on. Every address typed gets the
same thank-you, known or not; submissions are rate-limited per client address.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from mamori.core.audit import client_address
from mamori.core.models import Organization, VerifiedDomain
from mamori.drills.tracking.views import no_store
from mamori.learning import content
from mamori.reporting.actions import thanks_kind as drill_thanks_kind
from mamori.reporting.forms import FindOrganizationForm, IncidentReportForm, NearMissForm
from mamori.reporting.models import Report, ResponseDrillParticipant
from mamori.reporting.staff_reports import (
    Reporter,
    allow_submission,
    file_incident_report,
    file_near_miss,
    reporter_from_delivery_token,
    reporter_from_email,
    reporter_from_personal_link,
)

THANKS_KINDS = ("received", "drill", "clicked_drill", "near_miss")
# Organizations whose staff report here; partners (police, CERT, vendors) have no staff roster to report from.
REPORTING_KINDS = (Organization.Kind.WARD, Organization.Kind.JOINT)


def reporting_organizations():
    """Organizations whose staff report here: wards and joint bodies with a verified mail domain."""
    return (
        Organization.objects.filter(kind__in=REPORTING_KINDS, domains__verified_at__isnull=False)
        .distinct()
        .order_by("code")
    )


def guidance(organization: Organization) -> dict:
    return {
        "organization": organization,
        "rules": content.first_response_rules(organization),
        "contact": content.report_contact(organization),
        "report_points": content.REPORT_POINTS,
    }


def too_many_submissions(request: HttpRequest, organization: Organization) -> HttpResponse:
    return no_store(render(request, "reporting/report_limited.html", guidance(organization), status=429))


def thanks_kind(reporter: Reporter, suspicious_mail: Report | None) -> str:
    """Which thank-you to show: a drill reported from its own link or matched by the recipient, else the same one.

    An unknown address and a known one get the same page; only the drill's own recipient learns it was a drill.
    """
    delivery = reporter.delivery
    if delivery is not None:
        failed = delivery.first_clicked_at or delivery.first_submitted_at or delivery.first_attachment_at
        return "clicked_drill" if failed or delivery.first_scanned_at else "drill"
    if suspicious_mail is not None and suspicious_mail.state == Report.State.DRILL and suspicious_mail.by_recipient:
        return drill_thanks_kind(suspicious_mail)
    return "received"


def drill_participant(reporter: Reporter | None) -> ResponseDrillParticipant | None:
    """The open response drill a personal link was sent for, to say so on the page."""
    if reporter is None or reporter.participant_id is None:
        return None
    return (
        ResponseDrillParticipant.objects.select_related("drill", "person")
        .filter(
            public_id=reporter.participant_id,
            drill__organization=reporter.organization,
            drill__closed_at__isnull=True,
        )
        .first()
    )


def render_report_page(
    request: HttpRequest, organization: Organization, reporter: Reporter | None, form
) -> HttpResponse:
    context = {
        **guidance(organization),
        "form": form,
        "reporter": reporter,
        "participant": drill_participant(reporter),
        "near_miss_url": near_miss_url(request, organization),
    }
    return no_store(render(request, "reporting/report.html", context))


def near_miss_url(request: HttpRequest, organization: Organization) -> str:
    personal = request.resolver_match.kwargs.get("personal_token") if request.resolver_match else None
    if personal:
        return reverse("reporting:near-miss-personal", args=[personal])
    return reverse("reporting:near-miss", args=[organization.code])


def handle_report(request: HttpRequest, organization: Organization, reporter: Reporter | None) -> HttpResponse:
    """The 5W1H page: show it, or file the report and thank the reporter (PRG)."""
    if request.method != "POST":
        return render_report_page(request, organization, reporter, IncidentReportForm(ask_email=reporter is None))
    form = IncidentReportForm(request.POST, request.FILES, ask_email=reporter is None)
    if not form.is_valid():
        return render_report_page(request, organization, reporter, form)
    address = client_address(request)
    if not allow_submission(address):
        return too_many_submissions(request, organization)
    if reporter is None:
        reporter = reporter_from_email(organization, form.cleaned_data["email"])
    report = file_incident_report(
        reporter, form.cleaned_data, raw_mail=form.suspicious_mail_bytes(), client_address=address
    )
    kind = thanks_kind(reporter, report.suspicious_mail)
    return redirect("reporting:report-thanks", organization.code, kind)


def organization_of_email(email: str) -> Organization | None:
    """The reporting organization whose verified mail domain the address is in."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    found = VerifiedDomain.objects.filter(
        domain=domain,
        verified_at__isnull=False,
        organization__kind__in=REPORTING_KINDS,
    ).select_related("organization")
    verified = found.first()
    return verified.organization if verified else None


@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """``/report/``: from the teachable moment (``?token=``); else the organization found from the work email.

    The page lists no organizations: it asks for the work address and goes to the page of the organization
    owning its domain, which tells nobody more than the domain they typed.
    """
    token = request.GET.get("token", "")
    reporter = reporter_from_delivery_token(token) if token else None
    if reporter is not None:
        return handle_report(request, reporter.organization, reporter)
    organizations = list(reporting_organizations()[:2])
    if len(organizations) == 1:
        return redirect("reporting:report-organization", organizations[0].code)
    form = FindOrganizationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        organization = organization_of_email(form.cleaned_data["email"])
        if organization is not None:
            return redirect("reporting:report-organization", organization.code)
        form.add_error("email", _("このアドレスの組織は見つかりませんでした。職場のメールアドレスを入力してください。"))
    return no_store(render(request, "reporting/report_choose.html", {"form": form}))


@require_http_methods(["GET", "HEAD", "POST"])
def report_for_organization(request: HttpRequest, organization_code: str) -> HttpResponse:
    """``/report/<code>/``: the ward's bookmarked page; the reporter types the work email."""
    organization = get_object_or_404(reporting_organizations(), code=organization_code)
    return handle_report(request, organization, None)


@require_http_methods(["GET", "HEAD", "POST"])
def report_personal(request: HttpRequest, personal_token: str) -> HttpResponse:
    """``/report/p/<signed link>/``: the personal report link (response drills mail these)."""
    reporter = reporter_from_personal_link(personal_token)
    if reporter is None:
        raise Http404
    return handle_report(request, reporter.organization, reporter)


def handle_near_miss(request: HttpRequest, organization: Organization, reporter: Reporter | None) -> HttpResponse:
    form_kwargs = {"organization": organization, "ask_email": reporter is None}
    form = NearMissForm(request.POST or None, **form_kwargs) if request.method == "POST" else None
    if form is not None and form.is_valid():
        if not allow_submission(client_address(request)):
            return too_many_submissions(request, organization)
        if reporter is None and form.cleaned_data.get("email"):
            reporter = reporter_from_email(organization, form.cleaned_data["email"])
        file_near_miss(reporter, organization, form.cleaned_data)
        return redirect("reporting:report-thanks", organization.code, "near_miss")
    if form is None:
        initial = {"department": reporter.department} if reporter and reporter.department else {}
        form = NearMissForm(initial=initial, **form_kwargs)
    context = {**guidance(organization), "form": form, "reporter": reporter}
    return no_store(render(request, "reporting/near_miss.html", context))


@require_http_methods(["GET", "HEAD", "POST"])
def near_miss(request: HttpRequest, organization_code: str) -> HttpResponse:
    organization = get_object_or_404(reporting_organizations(), code=organization_code)
    return handle_near_miss(request, organization, None)


@require_http_methods(["GET", "HEAD", "POST"])
def near_miss_personal(request: HttpRequest, personal_token: str) -> HttpResponse:
    reporter = reporter_from_personal_link(personal_token)
    if reporter is None:
        raise Http404
    return handle_near_miss(request, reporter.organization, reporter)


@require_safe
def thanks(request: HttpRequest, organization_code: str, kind: str) -> HttpResponse:
    """The thank-you page: the same for every reporter of a kind, whoever they said they were."""
    organization = get_object_or_404(reporting_organizations(), code=organization_code)
    if kind not in THANKS_KINDS:
        raise Http404
    context = {
        **guidance(organization),
        "kind": kind,
        "report_again_url": reverse("reporting:report-organization", args=[organization.code]),
    }
    return no_store(render(request, "reporting/report_thanks.html", context))
