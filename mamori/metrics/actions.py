"""State changes of the metrics app: the figures themselves are recomputed by ``mamori.metrics.rollups``."""

from django.http import HttpRequest

from mamori.core.audit import record
from mamori.core.models import Organization
from mamori.metrics import rollups


def refresh_now(organization: Organization, fiscal_year: int, *, by=None, request: HttpRequest | None = None) -> int:
    """「今すぐ再集計」: recompute the organization's fiscal year now instead of waiting for the worker.

    Audited, since a refresh over a large ward is a noticeable load. Returns the number of campaigns
    refreshed.
    """
    campaigns = rollups.refresh_organization(organization, fiscal_year)
    record(
        "metrics.refresh",
        organization=organization,
        actor=by,
        request=request,
        target=fiscal_year,
        campaigns=campaigns,
    )
    return campaigns
