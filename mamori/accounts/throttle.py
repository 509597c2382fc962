"""Login throttling: lock an account, or a client address, after too many failures within a window.

An account is keyed by the casefolded username when the typed identifier names a user, and by the
casefolded identifier otherwise, so that an unknown name is locked exactly like a real one and the
lockout never tells whether an account exists. Failed MFA codes count against the account as well.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from mamori.accounts.models import LoginFailure
from mamori.core.audit import client_address


@dataclass(frozen=True)
class Lockout:
    """Logins are refused until ``until``; ``per_address`` when the client address, not the account, is locked."""

    until: datetime
    per_address: bool = False

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))


def account_key(name: str) -> str:
    return name.strip().casefold()[:150]


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def _lockout_from(failures, limit: int, *, per_address: bool) -> Lockout | None:
    """Locked while ``limit`` failures lie within the window: until the limit-th newest one leaves it."""
    since = timezone.now() - _window()
    nth_newest = failures.filter(at__gte=since).order_by("-at").values_list("at", flat=True)[limit - 1 : limit]
    at = next(iter(nth_newest), None)
    return Lockout(until=at + _window(), per_address=per_address) if at else None


def lockout_for(request: HttpRequest, key: str) -> Lockout | None:
    """The lockout that applies to this client address or this account, if any (address first)."""
    address = client_address(request)
    if address:
        lockout = _lockout_from(
            LoginFailure.objects.filter(client_address=address),
            settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS,
            per_address=True,
        )
        if lockout:
            return lockout
    return _lockout_from(LoginFailure.objects.filter(username=key), settings.LOGIN_FAILURE_LIMIT, per_address=False)


def record_failure(request: HttpRequest, key: str, stage: str = LoginFailure.Stage.PASSWORD) -> Lockout | None:
    """Count one failure and return the lockout it causes, if it reaches a limit."""
    now = timezone.now()
    # Pruning here keeps the table as small as one window of failures without a separate job.
    LoginFailure.objects.filter(at__lt=now - _window()).delete()
    LoginFailure.objects.create(username=key, client_address=client_address(request), stage=stage, at=now)
    return lockout_for(request, key)


def clear_failures(key: str, *, stages: tuple[str, ...] | None = None) -> None:
    """Forget the account's failures (all of them, or those of ``stages`` only)."""
    failures = LoginFailure.objects.filter(username=key)
    if stages is not None:
        failures = failures.filter(stage__in=stages)
    failures.delete()
