"""Who may see which figures: shared by the pages and the API (the exports apply the same rules).

- security_admin, CSIRT, auditor: the whole ward and any of its departments;
- dept_manager: the sub-trees of the departments of their memberships, nothing else;
- joint_admin: the joint view, where only the wards they belong to are named.
"""

import functools
import operator

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from mamori.core.models import Department, Membership
from mamori.core.scoping import for_organization, tenancy

Role = Membership.Role
ORGANIZATION_WIDE_ROLES = (Role.SECURITY_ADMIN, Role.CSIRT, Role.AUDITOR)


def sees_whole_ward(request) -> bool:
    return tenancy(request).has_role(*ORGANIZATION_WIDE_ROLES)


def managed_departments(request) -> list[Department]:
    """The departments a dept_manager holds in the current organization (from the memberships already read)."""
    context = tenancy(request)
    return [
        membership.department
        for membership in context.memberships
        if membership.organization_id == context.organization.pk
        and membership.role == Role.DEPT_MANAGER
        and membership.department is not None
    ]


def visible_departments(request) -> QuerySet:
    """Departments whose figures the user may open: all of the ward, or a dept_manager's own sub-trees."""
    departments = for_organization(request, Department)
    if sees_whole_ward(request):
        return departments
    own = managed_departments(request)
    return departments.filter(
        functools.reduce(operator.or_, (department.subtree_filter(prefix="") for department in own), Q(pk__in=[]))
    )


def viewer_organizations(request) -> set[int]:
    """The organizations the user belongs to: their wards are named in the joint view, the others are not."""
    return {membership.organization_id for membership in tenancy(request).memberships}


def department_asked_for(request, department_id) -> Department | None:
    """The department whose figures are asked for, by its public_id, or 404 when the user may not see it.

    Without one: a dept_manager gets their (first) own department; an organization-wide role gets None
    (the whole ward).
    """
    if department_id is not None:
        return get_object_or_404(visible_departments(request), public_id=department_id)
    own = managed_departments(request)
    if own and not sees_whole_ward(request):
        return own[0]
    return None
