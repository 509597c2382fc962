"""Administrator pages of the learning app: completion per campaign, the login page's look, the rules.

security_admin edits; csirt and auditor see the completion figures and the login page preview. Every
lookup goes through the current organization: another ward's scenario or figures are a 404 or absent.
"""

from django.contrib import messages
from django.db.models import Avg, Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mamori.core.models import Membership
from mamori.core.scoping import current_organization, for_organization, require_role
from mamori.drills.models import Campaign, Scenario
from mamori.learning import actions
from mamori.learning.content import DEFAULT_FIRST_RESPONSE_RULES
from mamori.learning.forms import FirstResponseForm, LandingPageForm
from mamori.learning.looks import look_for
from mamori.learning.models import Assignment
from mamori.learning.views.recipient import render_landing

Role = Membership.Role
VIEW_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)
MANAGE_ROLES = (Role.SECURITY_ADMIN,)


def campaign_completion_rows(request) -> list[dict]:
    """Per campaign: people who reached the moment, how many finished it, their mean score and time.

    One grouped query over the ward's assignments and one for the campaigns: the cost grows with the
    number of campaigns, not of people.
    """
    done = Q(completion__completed_at__isnull=False)
    figures = {
        row["delivery__campaign"]: row
        for row in for_organization(request, Assignment)
        .filter(delivery__isnull=False)
        .values("delivery__campaign")
        .annotate(
            reached=Count("id"),
            completed=Count("id", filter=done),
            average_score=Avg("completion__quiz_score", filter=done),
            average_seconds=Avg("completion__seconds_spent", filter=done),
        )
    }
    campaigns = for_organization(request, Campaign).filter(pk__in=figures)
    rows = []
    for campaign in campaigns:
        row = figures[campaign.pk]
        rows.append(
            {
                "campaign": campaign,
                "reached": row["reached"],
                "completed": row["completed"],
                "rate": 100 * row["completed"] / row["reached"],
                "average_score": row["average_score"],
                "average_seconds": round(row["average_seconds"]) if row["average_seconds"] is not None else None,
            }
        )
    return rows


@require_role(*VIEW_ROLES)
def completions(request):
    return render(request, "learning/completions.html", {"rows": campaign_completion_rows(request)})


@require_role(*MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def first_response(request):
    """The ward's report contact and first-response rules, shown on every teachable moment."""
    organization = current_organization(request)
    form = FirstResponseForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        actions.save_first_response(form, by=request.user, request=request)
        messages.success(request, _("報告窓口と初動対応のルールを保存しました。"))
        return redirect("learning:first-response")
    context = {"form": form, "default_rules": [str(rule) for rule in DEFAULT_FIRST_RESPONSE_RULES]}
    return render(request, "learning/first_response.html", context)


def visible_scenario(request, scenario_id) -> Scenario:
    """The library's or the ward's own scenario; another ward's is a 404."""
    visible = for_organization(request, Scenario) | Scenario.objects.filter(organization__isnull=True)
    return get_object_or_404(visible, public_id=scenario_id)


@require_role(*MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def landing_edit(request, scenario_id):
    """Edit the look of a ward scenario's login page; the library's is read-only (copy it first)."""
    scenario = get_object_or_404(for_organization(request, Scenario), public_id=scenario_id)
    if request.method == "POST" and "reset" in request.POST:
        actions.reset_landing_page(scenario, by=request.user, request=request)
        messages.success(request, _("ログイン画面を既定の表示に戻しました。"))
        return redirect("learning:landing-edit", scenario_id=scenario.public_id)
    form = LandingPageForm(request.POST or None, instance=look_for(scenario))
    if request.method == "POST" and form.is_valid():
        actions.save_landing_page(form, by=request.user, request=request)
        messages.success(request, _("ログイン画面を保存しました。"))
        return redirect("learning:landing-edit", scenario_id=scenario.public_id)
    context = {
        "scenario": scenario,
        "form": form,
        "is_credential_form": scenario.lure_type == Scenario.LureType.CREDENTIAL_FORM,
        "customised": form.instance.pk is not None,
    }
    return render(request, "learning/landing_edit.html", context)


@require_role(*VIEW_ROLES)
def landing_preview(request, scenario_id):
    """The login page as recipients see it; the form sends nothing."""
    return render_landing(request, look_for(visible_scenario(request, scenario_id)), preview=True)
