"""Writing the audit log: one function, called by every action that changes something security-relevant."""

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest

from mamori.core.models import AuditEntry, Organization


def client_address(request: HttpRequest | None) -> str:
    """The client's address; behind TRUSTED_PROXY_COUNT reverse proxies, the one they saw.

    Only the proxies' own entries of X-Forwarded-For are trusted (counted from the right): a client can
    prepend anything it likes to that header.
    """
    if request is None:
        return ""
    return address_from_meta(request.META)


def address_from_meta(meta: Mapping[str, str]) -> str:
    """``client_address`` from a request's META or a WSGI environ (the tracking endpoints' lean path)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:45]
    return meta.get("REMOTE_ADDR", "")[:45]


def record(
    action: str,
    *,
    organization: Organization | None,
    actor=None,
    request: HttpRequest | None = None,
    target: object = "",
    **details,
) -> AuditEntry:
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor,
        actor_label=str(actor) if actor else "system",
        action=action,
        target=str(target)[:300],
        details=details,
        client_address=client_address(request),
    )
