"""Every state change of tenancy data; views, API, commands and tests call these."""

from django.db import transaction
from django.utils import timezone

from mamori.core.audit import record
from mamori.core.models import Organization, VerifiedDomain


@transaction.atomic
def verify_domain(organization: Organization, domain: str, *, by, request=None) -> bool:
    """Register ``domain`` as the organization's own (the admin vouches for it). True if newly added."""
    _, created = VerifiedDomain.objects.get_or_create(
        organization=organization, domain=domain, defaults={"verified_at": timezone.now(), "verified_by": by}
    )
    if created:
        record("domain.verified", organization=organization, actor=by, request=request, target=domain)
    return created


@transaction.atomic
def remove_domain(domain: VerifiedDomain, *, by, request=None) -> None:
    record("domain.removed", organization=domain.organization, actor=by, request=request, target=domain.domain)
    domain.delete()
