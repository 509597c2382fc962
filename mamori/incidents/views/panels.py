"""The case page, for the ward (its own case) and for the joint CSIRT (a granted case).

Both show the same panels: facts, timeline, tasks, evidence. A joint body sees what its grant shares: the
people's names only with ``share_people``, the evidence list only with ``share_evidence``; it cannot change
the state or the facts. A form that fails is shown again on the page with what was typed and the reason.
Each panel costs one query (two for evidence and its custody), whatever its length.
"""

from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.core.scoping import current_organization
from mamori.incidents import actions, legal_clock, major, measures, states
from mamori.incidents.forms import (
    CustodyForm,
    EscalationForm,
    EvidenceForm,
    TaskForm,
    TimelineEntryForm,
    TransitionForm,
)
from mamori.incidents.models import Case, CustodyEntry, TimePrecision
from mamori.incidents.views.access import EDIT_ROLES, JOINT, WARD, grant_of

State = Case.State
TEMPLATES = {WARD: "incidents/case_detail.html", JOINT: "incidents/joint_detail.html"}


def render_case_page(request, case: Case, side: str, *, status: int = 200, **forms):
    """The case page; ``forms`` replaces a panel's empty form with a bound one that failed."""
    context = case_context(request, case, side)
    if side == WARD:
        context.update(ward_context(request, case, can_edit=context["can_write"]))
    failed_custody = forms.pop("custody_form", None), forms.pop("custody_evidence", None)
    context.update(forms)
    if context["can_write"]:
        for item in context["evidence"]:
            bound = item.public_id == failed_custody[1]
            item.custody_form = failed_custody[0] if bound else CustodyForm(auto_id=f"custody-{item.public_id}-%s")
            item.custody_open = bound
    return render(request, TEMPLATES[side], context, status=status)


def case_context(request, case: Case, side: str) -> dict:
    """The panels of one case as ``side`` (ward or joint) may see them."""
    organization = current_organization(request)
    grant = grant_of(request, case) if side == JOINT else None
    show_people = side == WARD or grant.share_people
    show_evidence = side == WARD or grant.share_evidence
    can_write = side == JOINT or request.tenancy.has_role(*EDIT_ROLES)
    now = timezone.now()
    transitions = list(case.transitions.select_related("actor", "actor_organization").order_by("at", "id"))
    timeline = list(case.timeline.select_related("author", "author_organization", "corrects").order_by("at", "id"))
    tasks = list(
        case.tasks.select_related("assignee", "done_by", "created_by", "created_by_organization").order_by(
            "position", "created_at", "id"
        )
    )
    for task in tasks:
        task.overdue = task.is_overdue(now)
        task.completable = (
            can_write and task.is_open and (side == WARD or task.created_by_organization_id == organization.pk)
        )
    context = {
        "case": case,
        "side": side,
        "organization": organization,
        "grant": grant,
        "show_people": show_people,
        "show_evidence": show_evidence,
        "can_write": can_write,
        "now": now,
        "transitions": transitions,
        "states": State.choices,
        "passed_states": {transition.to_state for transition in transitions},
        "timeline": timeline,
        "tasks": tasks,
        "open_task_count": sum(1 for task in tasks if task.is_open),
        "departments": list(case.affected_departments.order_by("path")),
        "people": list(case.affected_people.order_by("employee_number")) if show_people else [],
        "evidence": _evidence(case) if show_evidence else [],
        "durations": measures.case_durations(case),
        "legal_reasons": _legal_reasons(case),
    }
    if can_write:
        context.update(
            {
                "timeline_form": TimelineEntryForm(initial={"at_precision": TimePrecision.EXACT}, entries=timeline),
                "task_form": TaskForm(),
                "evidence_form": EvidenceForm() if side == WARD else None,
            }
        )
    return context


def ward_context(request, case: Case, *, can_edit: bool) -> dict:
    """What only the ward sees: the state buttons, the grants to joint bodies, the major-incident reasons."""
    return {
        "can_edit": can_edit,
        "transition_buttons": transition_buttons(case) if can_edit else [],
        "closing_form": closing_form(case) if can_edit else None,
        "escalations": list(
            case.escalations.select_related("joint_organization", "granted_by", "revoked_by").order_by("-granted_at")
        ),
        "escalation_form": escalation_form() if can_edit else None,
        "major_reasons": major.major_reasons(
            case.personal_records_count, case.service_outage_started_at, case.service_outage_ended_at, timezone.now()
        ),
        "major_rule": major.rule(),
    }


def _evidence(case: Case) -> list:
    custody = CustodyEntry.objects.select_related("actor", "actor_organization").order_by("at", "id")
    return list(
        case.evidence.select_related("registered_by", "registered_by_organization")
        .prefetch_related(Prefetch("custody", queryset=custody))
        .order_by("created_at", "id")
    )


def _legal_reasons(case: Case) -> list[str]:
    deadlines = legal_clock.case_deadlines(case)
    return [str(legal_clock.REASON_LABELS[reason]) for reason in deadlines.reasons] if deadlines else []


BUTTON_LABELS = {
    State.TRIAGE: gettext_lazy("トリアージを始める"),
    State.IN_PROGRESS: gettext_lazy("対応を始める"),
    State.CONTAINED: gettext_lazy("封じ込め済みにする"),
    State.ERADICATED: gettext_lazy("根絶済みにする"),
    State.RECOVERED: gettext_lazy("復旧済みにする"),
}


STATE_ORDER = {value: index for index, value in enumerate(State.values)}


def transition_buttons(case: Case) -> list[dict]:
    """The moves offered as buttons (state, label, backward); closing has its own form (it needs a resolution)."""
    buttons = []
    for to_state in states.allowed_next_states(case.state):
        if to_state == State.CLOSED:
            continue
        backward = STATE_ORDER[to_state] < STATE_ORDER[case.state]
        if states.is_reopen(case.state, to_state):
            label = _("再開する（%(state)s）") % {"state": State(to_state).label}
        elif backward:
            label = _("対応中に戻す")
        else:
            label = str(BUTTON_LABELS[to_state])
        buttons.append({"state": to_state, "label": label, "backward": backward})
    return buttons


def closing_form(case: Case, data=None) -> TransitionForm | None:
    """The form that closes the case, offering only the resolutions allowed from its state (none: no form)."""
    allowed = states.resolutions_for_closing(case.state)
    if not allowed:
        return None
    form = TransitionForm(data, case=case, initial={"to_state": State.CLOSED})
    form.fields["resolution"].choices = [("", "—")] + [(value, Case.Resolution(value).label) for value in allowed]
    return form


def escalation_form(data=None) -> EscalationForm:
    form = EscalationForm(data)
    form.fields["joint_organization"].queryset = actions.joint_organizations()
    return form
