"""Scenario pages: the built-in library and the ward's own scenarios, the editor, copy, archive, preview.

security_admin manages scenarios; csirt and auditor see them. A ward sees the library and its own
scenarios only: another ward's scenario is a 404 on every page.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mamori.core.models import Membership
from mamori.core.scoping import current_organization, for_organization, people_visible_to, require_role
from mamori.core.search import people_matching
from mamori.drills.actions import scenarios as actions
from mamori.drills.forms.scenarios import (
    LibraryFilterForm,
    PersonSearchForm,
    ScenarioForm,
    cue_formset,
    validate_scenario,
)
from mamori.drills.library import THREAT_TAGS
from mamori.drills.models import Scenario
from mamori.drills.rendering import CONTEXT_VARIABLES, TemplateRenderError, render_preview, sample_person

Role = Membership.Role
VIEW_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)
MANAGE_ROLES = (Role.SECURITY_ADMIN,)
PEOPLE_SEARCH_LIMIT = 20


def visible_scenarios(request):
    """The library and the current ward's own scenarios: nothing of another ward."""
    return for_organization(request, Scenario) | Scenario.objects.filter(organization__isnull=True)


def _visible_scenario(request, scenario_id) -> Scenario:
    return get_object_or_404(visible_scenarios(request), public_id=scenario_id)


def _own_scenario(request, scenario_id) -> Scenario:
    """One of the ward's own scenarios; a library scenario is read-only, so it is a 404 here too."""
    return get_object_or_404(for_organization(request, Scenario), public_id=scenario_id)


def _labelled(scenario: Scenario) -> Scenario:
    """Attach the threat tags' labels, for the templates."""
    scenario.tag_labels = [THREAT_TAGS.get(tag, tag) for tag in scenario.threat_tags]
    return scenario


def _matches(scenario: Scenario, filters: dict) -> bool:
    # In Python: the difficulty is computed, and tags are JSON (no portable containment lookup on SQLite).
    return (
        (not filters.get("lure_type") or scenario.lure_type == filters["lure_type"])
        and (not filters.get("tag") or filters["tag"] in scenario.threat_tags)
        and (not filters.get("difficulty") or scenario.difficulty == filters["difficulty"])
    )


@require_role(*VIEW_ROLES)
def scenario_list(request):
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    show_archived = request.GET.get("archived") == "1"
    library = Scenario.objects.filter(organization__isnull=True, archived=False).order_by("name")
    own = for_organization(request, Scenario).filter(archived=show_archived).order_by("name")
    context = {
        "form": form,
        "library": [_labelled(scenario) for scenario in library if _matches(scenario, filters)],
        "own": [_labelled(scenario) for scenario in own if _matches(scenario, filters)],
        "show_archived": show_archived,
    }
    template = "drills/partials/scenario_tables.html" if request.htmx else "drills/scenario_list.html"
    return render(request, template, context)


@require_role(*VIEW_ROLES)
def scenario_detail(request, scenario_id):
    scenario = _labelled(_visible_scenario(request, scenario_id))
    copies = for_organization(request, Scenario).filter(copied_from=scenario).order_by("name")
    return render(request, "drills/scenario_detail.html", {"scenario": scenario, "copies": copies})


def _editor(request, scenario: Scenario, *, template_context: dict):
    """The create and edit pages: the form and its cues, saved together when both are valid."""
    form = ScenarioForm(request.POST or None, instance=scenario)
    cues = cue_formset(scenario, request.POST or None)
    if request.method == "POST" and validate_scenario(form, cues):
        try:
            saved = actions.save_scenario(form, by=request.user, request=request)
        except actions.ScenarioError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("シナリオ「%(name)s」を保存しました。") % {"name": saved.name})
            return redirect("drills:scenario-detail", scenario_id=saved.public_id)
    context = {"form": form, "cues": cues, "variables": CONTEXT_VARIABLES, **template_context}
    return render(request, "drills/scenario_form.html", context)


@require_role(*MANAGE_ROLES)
def scenario_create(request):
    scenario = Scenario(organization=current_organization(request))
    return _editor(request, scenario, template_context={"scenario": None})


@require_role(*MANAGE_ROLES)
def scenario_edit(request, scenario_id):
    scenario = _own_scenario(request, scenario_id)
    return _editor(request, scenario, template_context={"scenario": scenario})


@require_POST
@require_role(*MANAGE_ROLES)
def scenario_copy(request, scenario_id):
    source = _visible_scenario(request, scenario_id)
    copy = actions.copy_scenario(source, organization=current_organization(request), by=request.user, request=request)
    messages.success(
        request,
        _("「%(name)s」を区のシナリオにコピーしました。内容を確認して保存してください。") % {"name": source.name},
    )
    return redirect("drills:scenario-edit", scenario_id=copy.public_id)


@require_POST
@require_role(*MANAGE_ROLES)
def scenario_archive(request, scenario_id):
    scenario = actions.set_archived(_own_scenario(request, scenario_id), True, by=request.user, request=request)
    messages.success(request, _("シナリオ「%(name)s」をアーカイブしました。") % {"name": scenario.name})
    return redirect("drills:scenario-detail", scenario_id=scenario.public_id)


@require_POST
@require_role(*MANAGE_ROLES)
def scenario_restore(request, scenario_id):
    scenario = actions.set_archived(_own_scenario(request, scenario_id), False, by=request.user, request=request)
    messages.success(request, _("シナリオ「%(name)s」を元に戻しました。") % {"name": scenario.name})
    return redirect("drills:scenario-detail", scenario_id=scenario.public_id)


@require_role(*VIEW_ROLES)
def scenario_preview(request, scenario_id):
    """The mail as a chosen staff member would receive it (a sample person until one is chosen)."""
    scenario = _visible_scenario(request, scenario_id)
    search = PersonSearchForm(request.GET or None)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    people = people_visible_to(request).filter(active=True).select_related("department")
    matches = list(people_matching(people, query).order_by("name_kana")[:PEOPLE_SEARCH_LIMIT]) if query else []
    if request.htmx and request.GET.get("results") == "1":
        return render(
            request,
            "drills/partials/scenario_person_results.html",
            {"scenario": scenario, "matches": matches, "query": query},
        )
    person_id = search.cleaned_data.get("person") if search.is_valid() else None
    person = people.filter(public_id=person_id).first() if person_id else None
    recipient = person or sample_person()
    try:
        mail = render_preview(scenario, recipient, current_organization(request))
        error = ""
    except TemplateRenderError as render_error:
        mail, error = None, str(render_error)
    context = {
        "scenario": scenario,
        "search": search,
        "query": query,
        "matches": matches,
        "person": person,
        "recipient": recipient,
        "mail": mail,
        "error": error,
    }
    return render(request, "drills/scenario_preview.html", context)
