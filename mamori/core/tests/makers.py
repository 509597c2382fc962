"""Plain test-data helpers (``make_*``): explicit, no factory library."""

import itertools

from django.utils import timezone

from mamori.accounts.models import User
from mamori.core.models import Department, Membership, Organization, Person, VerifiedDomain
from mamori.core.models.people import PATH_SEPARATOR

_numbers = itertools.count(1)


def make_organization(code: str, name: str, *, domain: str | None = None, kind=Organization.Kind.WARD):
    organization = Organization.objects.create(code=code, name=name, kind=kind)
    if domain:
        VerifiedDomain.objects.create(organization=organization, domain=domain, verified_at=timezone.now())
    return organization


def make_department(organization, path: str) -> Department:
    """Create the department at ``path`` (「総務部/総務課」) and any missing ancestors."""
    parent = None
    names = path.split(PATH_SEPARATOR)
    for depth in range(len(names)):
        sub_path = PATH_SEPARATOR.join(names[: depth + 1])
        parent, _ = Department.objects.get_or_create(
            organization=organization,
            path=sub_path,
            defaults={"name": names[depth], "parent": parent, "depth": depth},
        )
    return parent


def make_person(organization, name: str, *, email: str | None = None, department=None, **fields) -> Person:
    number = next(_numbers)
    domain = organization.domains.values_list("domain", flat=True).first() or "example.jp"
    return Person.objects.create(
        organization=organization,
        name=name,
        email=email or f"person{number}@{domain}",
        employee_number=fields.pop("employee_number", f"E{number:06d}"),
        department=department,
        **fields,
    )


def make_user(username: str, *, organization=None, role=Membership.Role.SECURITY_ADMIN, password="correct-horse-42"):
    user = User.objects.create_user(username=username, email=f"{username}@example.jp", password=password)
    if organization is not None:
        Membership.objects.create(user=user, organization=organization, role=role)
    return user
