"""Work on a case from either side: timeline entries, tasks, evidence and its chain of custody.

The same views serve the ward (``side="ward"``: its own case, csirt and security_admin) and the joint CSIRT
(``side="joint"``: a case granted to it, csirt and joint_admin of the joint body); the URL says which. The
actions check the side again and record which organization did what, so the ward sees who did it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from mamori.core.scoping import current_organization, require_role
from mamori.incidents import actions
from mamori.incidents.forms import CustodyForm, EvidenceForm, TaskForm, TimelineEntryForm
from mamori.incidents.models import Case, Evidence, Task
from mamori.incidents.views import panels
from mamori.incidents.views.access import EDIT_ROLES, JOINT, JOINT_ROLES, WARD, case_for, grant_of

PAGE_NAMES = {WARD: "incidents:case-detail", JOINT: "incidents:joint-detail"}
WRITE_ROLES = {WARD: EDIT_ROLES, JOINT: JOINT_ROLES}


def _case(request, case_id, side: str) -> Case:
    """The case, if the request may write to it from ``side`` (the auditor reads only)."""
    if not request.tenancy.has_role(*WRITE_ROLES[side]):
        raise PermissionDenied("role")
    return case_for(request, case_id, side)


def _back(case: Case, side: str):
    return redirect(PAGE_NAMES[side], case_id=case.public_id)


def _failed(request, case: Case, side: str, error: str, **forms):
    """Show the page again with the typed form and the reason (nothing typed is lost)."""
    messages.error(request, error)
    return panels.render_case_page(request, case, side, status=400, **forms)


INVALID = gettext_lazy("入力内容を確認してください。")


@require_POST
@require_role(*EDIT_ROLES, *JOINT_ROLES)
def timeline_add(request, case_id, side):
    case = _case(request, case_id, side)
    form = TimelineEntryForm(request.POST, entries=case.timeline.order_by("at", "id"))
    if not form.is_valid():
        return _failed(request, case, side, str(INVALID), timeline_form=form)
    data = form.cleaned_data
    try:
        actions.add_timeline_entry(
            case,
            actor=request.user,
            organization=current_organization(request),
            text=data["text"],
            at=data["at"],
            at_precision=data["at_precision"],
            kind=data["kind"],
            corrects=data["corrects"],
            request=request,
        )
    except actions.IncidentActionError as error:
        return _failed(request, case, side, error.message, timeline_form=form)
    messages.success(request, _("時系列に記録しました。"))
    return _back(case, side)


@require_POST
@require_role(*EDIT_ROLES, *JOINT_ROLES)
def task_add(request, case_id, side):
    case = _case(request, case_id, side)
    form = TaskForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, side, str(INVALID), task_form=form)
    try:
        actions.add_task(
            case,
            actor=request.user,
            organization=current_organization(request),
            title=form.cleaned_data["title"],
            detail=form.cleaned_data["detail"],
            due_at=form.cleaned_data["due_at"],
            request=request,
        )
    except actions.IncidentActionError as error:
        return _failed(request, case, side, error.message, task_form=form)
    messages.success(request, _("作業を追加しました。"))
    return _back(case, side)


def _task(case: Case, task_id) -> Task:
    return get_object_or_404(Task.objects.select_related("case"), case=case, public_id=task_id)


@require_POST
@require_role(*EDIT_ROLES, *JOINT_ROLES)
def task_done(request, case_id, task_id, side):
    case = _case(request, case_id, side)
    task = _task(case, task_id)
    try:
        actions.complete_task(task, actor=request.user, organization=current_organization(request), request=request)
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("「%(title)s」を完了にしました。") % {"title": task.title})
    return _back(case, side)


@require_POST
@require_role(*EDIT_ROLES)
def task_reopen(request, case_id, task_id):
    case = _case(request, case_id, WARD)
    task = _task(case, task_id)
    try:
        actions.reopen_task(task, actor=request.user, organization=current_organization(request), request=request)
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("「%(title)s」を未完了に戻しました。") % {"title": task.title})
    return _back(case, WARD)


@require_POST
@require_role(*EDIT_ROLES)
def evidence_add(request, case_id):
    case = _case(request, case_id, WARD)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _failed(request, case, WARD, str(INVALID), evidence_form=form)
    data = form.cleaned_data
    try:
        evidence = actions.register_evidence(
            case,
            actor=request.user,
            organization=current_organization(request),
            description=data["description"],
            kind=data["kind"],
            upload=data["file"],
            sha256=data["sha256"],
            acquired_at=data["acquired_at"],
            acquired_precision=data["acquired_precision"],
            collector=data["collector"],
            request=request,
        )
    except actions.IncidentActionError as error:
        return _failed(request, case, WARD, error.message, evidence_form=form)
    messages.success(request, _("証拠を登録しました（SHA-256 %(hash)s）。") % {"hash": evidence.sha256})
    return _back(case, WARD)


def _evidence(request, case: Case, evidence_id, side: str) -> Evidence:
    """An evidence item of the case; for the joint body only when its grant shares evidence."""
    if side == JOINT and not grant_of(request, case).share_evidence:
        raise PermissionDenied("evidence not shared")
    return get_object_or_404(Evidence.objects.select_related("case"), case=case, public_id=evidence_id)


@require_GET
@require_role(*EDIT_ROLES, *JOINT_ROLES)
def evidence_download(request, case_id, evidence_id, side):
    """The stored file, after re-checking its SHA-256 against the one registered (refused if it differs)."""
    case = _case(request, case_id, side)
    evidence = _evidence(request, case, evidence_id, side)
    try:
        path = actions.verified_evidence_file(
            evidence, actor=request.user, organization=current_organization(request), request=request
        )
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
        return _back(case, side)
    name = evidence.file_name or f"evidence-{evidence.sha256[:12]}"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@require_role(*EDIT_ROLES, *JOINT_ROLES)
def custody_add(request, case_id, evidence_id, side):
    case = _case(request, case_id, side)
    evidence = _evidence(request, case, evidence_id, side)
    form = CustodyForm(request.POST, auto_id=f"custody-{evidence.public_id}-%s")
    if not form.is_valid():
        return _failed(request, case, side, str(INVALID), custody_form=form, custody_evidence=evidence.public_id)
    data = form.cleaned_data
    try:
        actions.add_custody(
            evidence,
            actor=request.user,
            organization=current_organization(request),
            action=data["action"],
            at=data["at"] or timezone.now(),
            from_holder=data["from_holder"],
            to_holder=data["to_holder"],
            note=data["note"],
            request=request,
        )
    except actions.IncidentActionError as error:
        return _failed(request, case, side, error.message, custody_form=form, custody_evidence=evidence.public_id)
    messages.success(request, _("保管の記録を追加しました。"))
    return _back(case, side)
