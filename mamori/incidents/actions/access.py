"""Who may act on a case: its own ward, or a joint body (共同CSIRT) holding an active escalation grant."""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet

from mamori.core.models import Membership, Organization
from mamori.incidents.models import Case, Escalation

WARD = "ward"
JOINT = "joint"

# Roles of a joint body's members who act on granted cases.
JOINT_ROLES = (Membership.Role.CSIRT, Membership.Role.JOINT_ADMIN)


def active_grant(case: Case, organization: Organization) -> Escalation | None:
    """The escalation letting ``organization`` (a joint body) into ``case``, if one is active."""
    return (
        Escalation.objects.filter(case=case, joint_organization=organization, revoked_at__isnull=True)
        .order_by("-granted_at")
        .first()
    )


def acting_side(case: Case, organization: Organization) -> str:
    """``WARD`` for the case's own ward, ``JOINT`` for a joint body holding an active grant; else refuse."""
    if case.organization_id == organization.pk:
        return WARD
    if organization.kind == Organization.Kind.JOINT and active_grant(case, organization) is not None:
        return JOINT
    raise PermissionDenied("not this organization's case")


def require_ward(case: Case, organization: Organization) -> None:
    """Only the ward that owns the case may do this (change state, edit data, evidence, grants)."""
    if case.organization_id != organization.pk:
        raise PermissionDenied("only the case's own ward may do this")


def joint_cases(joint_organization: Organization) -> QuerySet[Case]:
    """The cases a joint body may see: those with an active (not revoked) grant to it. Empty for a ward."""
    if joint_organization.kind != Organization.Kind.JOINT:
        return Case.objects.none()
    granted = Escalation.objects.filter(
        case=OuterRef("pk"), joint_organization=joint_organization, revoked_at__isnull=True
    )
    return Case.objects.filter(Exists(granted))


def joint_organizations() -> QuerySet[Organization]:
    """The joint bodies a ward may escalate to (wards and joint bodies are not linked in the data)."""
    return Organization.objects.filter(kind=Organization.Kind.JOINT).order_by("name")
