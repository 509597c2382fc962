"""The ward's grants to a joint body (共同CSIRT): escalate a case, revoke the grant.

The grant is explicit and revocable: it names the joint body and what it shares (people's names, evidence).
Revoking takes effect at once, because every joint page reads the grant again.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mamori.core.scoping import current_organization, require_role
from mamori.incidents import actions
from mamori.incidents.models import Escalation
from mamori.incidents.views import panels
from mamori.incidents.views.access import EDIT_ROLES, WARD, case_for


@require_POST
@require_role(*EDIT_ROLES)
def escalate(request, case_id):
    case = case_for(request, case_id, WARD)
    form = panels.escalation_form(request.POST)
    if not form.is_valid():
        messages.error(request, _("依頼先の共同CSIRTを選んでください。"))
        return panels.render_case_page(request, case, WARD, status=400, escalation_form=form)
    data = form.cleaned_data
    try:
        escalation = actions.escalate(
            case,
            data["joint_organization"],
            actor=request.user,
            organization=current_organization(request),
            note=data["note"],
            share_people=data["share_people"],
            share_evidence=data["share_evidence"],
            request=request,
        )
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
        return panels.render_case_page(request, case, WARD, status=400, escalation_form=form)
    messages.success(
        request,
        _("「%(joint)s」に支援を依頼しました。当番の連絡先にメールで知らせます。")
        % {"joint": escalation.joint_organization.name},
    )
    return redirect("incidents:case-detail", case_id=case.public_id)


@require_POST
@require_role(*EDIT_ROLES)
def revoke(request, case_id, grant_id):
    case = case_for(request, case_id, WARD)
    escalation = get_object_or_404(
        Escalation.objects.select_related("case", "joint_organization"), case=case, public_id=grant_id
    )
    try:
        actions.revoke_escalation(
            escalation, actor=request.user, organization=current_organization(request), request=request
        )
    except actions.IncidentActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("「%(joint)s」への共有を取り消しました。この事案はもう見えません。")
            % {"joint": escalation.joint_organization.name},
        )
    return redirect("incidents:case-detail", case_id=case.public_id)
