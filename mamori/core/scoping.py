"""Tenant scoping: every view reaches tenant data through these helpers, filtered in the query.

No view calls ``Model.objects.get(pk=…)`` on tenant data; it calls ``get_for_organization`` or starts
from ``for_organization``. The tenant sweep test proves that a member of another organization finds
nothing through any URL or API route.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from mamori.core.models import Membership, Organization, Person

SESSION_ORGANIZATION_KEY = "organization"


@dataclass
class Tenancy:
    """What the request may act on: the current organization and the user's roles there."""

    organization: Organization | None = None
    roles: frozenset[str] = frozenset()
    memberships: list[Membership] = field(default_factory=list)

    @property
    def organizations(self) -> list[Organization]:
        seen: dict[int, Organization] = {}
        for membership in self.memberships:
            seen.setdefault(membership.organization_id, membership.organization)
        return list(seen.values())

    @property
    def needs_mfa(self) -> bool:
        return any(m.role in Membership.MFA_ROLES for m in self.memberships)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return self.has_role(*Membership.ADMIN_ROLES)


def resolve_organization(request: HttpRequest) -> Tenancy:
    """One query: the user's memberships with their organizations; pick the current one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Tenancy()
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("organization", "department")
        .order_by("organization__code", "role")
    )
    if not memberships:
        return Tenancy()
    wanted = request.session.get(SESSION_ORGANIZATION_KEY)
    current = next((m.organization for m in memberships if m.organization.code == wanted), None)
    current = current or memberships[0].organization
    roles = frozenset(m.role for m in memberships if m.organization_id == current.pk)
    return Tenancy(organization=current, roles=roles, memberships=memberships)


def tenancy(request: HttpRequest) -> Tenancy:
    return request.tenancy  # type: ignore[attr-defined]


def require_role(*roles: str) -> Callable:
    """Login, a current organization and one of ``roles`` there (any internal role when none is named)."""
    roles = roles or tuple(Membership.INTERNAL_ROLES)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            context = tenancy(request)
            if context.organization is None:
                raise PermissionDenied("no organization")
            if not context.has_role(*roles):
                raise PermissionDenied("role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def current_organization(request: HttpRequest) -> Organization:
    organization = tenancy(request).organization
    if organization is None:
        raise PermissionDenied("no organization")
    return organization


def for_organization(request: HttpRequest, model_or_queryset) -> models.QuerySet:
    """The model's rows that belong to the request's current organization."""
    queryset = model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    return queryset.filter(organization=current_organization(request))


def get_for_organization(request: HttpRequest, model_or_queryset, **lookup):
    """One row of the current organization, or 404 (never 'exists elsewhere')."""
    return get_object_or_404(for_organization(request, model_or_queryset), **lookup)


def people_visible_to(request: HttpRequest) -> models.QuerySet:
    """Staff the user may see: all of the organization, or a dept_manager's own sub-tree only."""
    people = for_organization(request, Person)
    context = tenancy(request)
    if not context.has_role(*Membership.INTERNAL_ROLES):
        return people.none()
    if context.roles & (Membership.INTERNAL_ROLES - {Membership.Role.DEPT_MANAGER}):
        return people
    departments = [
        m.department
        for m in context.memberships
        if m.organization_id == context.organization.pk and m.department is not None
    ]
    if not departments:
        return people.none()
    condition = models.Q()
    for department in departments:
        condition |= department.subtree_filter()
    return people.filter(condition)
