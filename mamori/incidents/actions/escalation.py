"""Escalation grants to the joint CSIRT, and the on-duty contacts mailed about them."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Organization
from mamori.incidents import notifications
from mamori.incidents.actions.access import require_ward
from mamori.incidents.actions.common import IncidentActionError, clean_text, clean_title, lock_case, notify_on_commit
from mamori.incidents.models import Case, DutyContact, Escalation


@transaction.atomic
def escalate(
    case: Case,
    joint_organization: Organization,
    *,
    actor,
    organization: Organization,
    note: str = "",
    share_people: bool = False,
    share_evidence: bool = True,
    request=None,
) -> Escalation:
    """Grant a joint body (共同CSIRT) access to the case and mail its on-duty contacts."""
    require_ward(case, organization)
    if joint_organization.kind != Organization.Kind.JOINT:
        raise IncidentActionError(_("エスカレーション先には共同組織（共同CSIRT）を選んでください。"))
    lock_case(case)
    if Escalation.objects.filter(case=case, joint_organization=joint_organization, revoked_at__isnull=True).exists():
        raise IncidentActionError(_("この共同組織にはすでにエスカレーションしています。"))
    escalation = Escalation.objects.create(
        case=case,
        joint_organization=joint_organization,
        share_people=bool(share_people),
        share_evidence=bool(share_evidence),
        note=clean_text(note),
        granted_by=actor,
    )
    record(
        "incident.escalated",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        joint_organization=joint_organization.code,
        share_people=escalation.share_people,
        share_evidence=escalation.share_evidence,
    )
    notify_on_commit(notifications.send_escalation_notice, escalation)
    return escalation


@transaction.atomic
def revoke_escalation(escalation: Escalation, *, actor, organization: Organization, request=None) -> Escalation:
    """End a grant: the joint body loses access at once (every access check reads the grant)."""
    require_ward(escalation.case, organization)
    locked = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if locked.revoked_at is not None:
        raise IncidentActionError(_("このエスカレーションはすでに取り消されています。"))
    escalation.revoked_at = timezone.now()
    escalation.revoked_by = actor
    escalation.save(update_fields=["revoked_at", "revoked_by"])
    record(
        "incident.escalation_revoked",
        organization=organization,
        actor=actor,
        request=request,
        target=escalation.case,
        case=str(escalation.case.public_id),
        joint_organization=escalation.joint_organization.code,
    )
    notify_on_commit(notifications.send_revocation_notice, escalation)
    return escalation


# On-duty contacts ---------------------------------------------------------------------------------------------


@transaction.atomic
def save_duty_contact(
    organization: Organization,
    *,
    actor,
    name: str,
    email: str,
    active: bool = True,
    weekdays: Iterable[int] = (),
    hours_start: datetime.time | None = None,
    hours_end: datetime.time | None = None,
    contact: DutyContact | None = None,
    request=None,
) -> DutyContact:
    """Add an on-duty contact, or change ``contact`` (which must be this organization's)."""
    if contact is not None and contact.organization_id != organization.pk:
        raise PermissionDenied("not this organization's contact")
    name = clean_title(name, label=_("名前"), limit=100)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise IncidentActionError(_("メールアドレスを正しく入力してください。")) from None
    days = sorted({int(day) for day in weekdays})
    if any(day < 1 or day > 7 for day in days):
        raise IncidentActionError(_("曜日の指定が正しくありません。"))
    if (hours_start is None) != (hours_end is None) or (hours_start is not None and hours_start == hours_end):
        raise IncidentActionError(_("時間帯は開始と終了の両方を、異なる時刻で入力してください。"))
    contact = contact or DutyContact(organization=organization)
    contact.name, contact.email, contact.active = name, email, bool(active)
    contact.weekdays, contact.hours_start, contact.hours_end = days, hours_start, hours_end
    created = contact.pk is None
    contact.save()
    record(
        "incident.duty_contact_added" if created else "incident.duty_contact_changed",
        organization=organization,
        actor=actor,
        request=request,
        target=contact.email,
    )
    return contact


@transaction.atomic
def delete_duty_contact(contact: DutyContact, *, actor, organization: Organization, request=None) -> None:
    if contact.organization_id != organization.pk:
        raise PermissionDenied("not this organization's contact")
    record(
        "incident.duty_contact_deleted", organization=organization, actor=actor, request=request, target=contact.email
    )
    contact.delete()
