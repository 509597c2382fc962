"""Who may reach which case: the ward through its own cases, a joint body through an active grant only."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from mamori.core.models import Membership, Organization
from mamori.core.scoping import current_organization, for_organization
from mamori.incidents import actions
from mamori.incidents.models import Case, Escalation

Role = Membership.Role
# The ward's case file: csirt and security_admin work on it, the auditor reads it.
VIEW_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)
EDIT_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT)
# The joint body's members who help on granted cases.
JOINT_ROLES = tuple(actions.JOINT_ROLES)
# On-duty contacts are kept by whoever handles incidents: a ward's CSIRT/admin or a joint body's CSIRT.
CONTACT_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.JOINT_ADMIN)

WARD = actions.WARD
JOINT = actions.JOINT


def ward_cases(request):
    """The current organization's own cases."""
    return for_organization(request, Case)


def joint_cases(request):
    """The cases granted (and not revoked) to the current organization, which must be a joint body."""
    return actions.joint_cases(current_organization(request))


def case_for(request, case_id, side: str) -> Case:
    """One case the request may reach from ``side`` (404 otherwise: never "it exists elsewhere")."""
    cases = ward_cases(request) if side == WARD else joint_cases(request)
    return get_object_or_404(cases.select_related("organization", "assignee", "reporter"), public_id=case_id)


def grant_of(request, case: Case) -> Escalation:
    """The joint body's active grant on ``case`` (what it may see); 404 when it has none any more."""
    grant = actions.active_grant(case, current_organization(request))
    if grant is None:
        raise Http404("no grant")
    return grant


def is_joint_body(organization: Organization) -> bool:
    return organization.kind == Organization.Kind.JOINT
