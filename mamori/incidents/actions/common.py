"""What every incident action shares: the refusal errors, input checks, the case lock and mail on commit."""

import datetime
import logging
import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.models import Membership, Organization
from mamori.incidents.models import Case

logger = logging.getLogger(__name__)


TITLE_MAX = 200
TEXT_MAX = 20_000
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# Entries may be dated a little ahead of the server clock (a PC clock running fast), not more.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
HASH_CHUNK = 1024 * 1024


class IncidentActionError(Exception):
    """A change refused for a reason the user can fix; ``message`` is Japanese, for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EvidenceIntegrityError(IncidentActionError):
    """A stored evidence file no longer matches the SHA-256 registered for it."""


def clean_title(value: str, *, label: str | None = None, limit: int = TITLE_MAX) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise IncidentActionError(_("%(label)sを入力してください。") % {"label": label or _("件名")})
    if len(value) > limit:
        raise IncidentActionError(
            _("%(label)sは%(limit)s文字以内にしてください。") % {"label": label or _("件名"), "limit": limit}
        )
    return value


def clean_text(value: str) -> str:
    value = (value or "").strip()
    if len(value) > TEXT_MAX:
        raise IncidentActionError(_("文章は%(limit)s文字以内にしてください。") % {"limit": TEXT_MAX})
    return value


def check_choice(value: str, choices, label: str) -> None:
    if value not in choices.values:
        raise IncidentActionError(_("「%(label)s」に選べない値が指定されています。") % {"label": label})


def check_not_future(moment: datetime.datetime, now: datetime.datetime, label: str) -> None:
    if timezone.is_naive(moment):
        raise TypeError("times must be aware")
    if moment > now + FUTURE_TOLERANCE:
        raise IncidentActionError(_("%(label)sに未来の日時は入力できません。") % {"label": label})


def check_own(organization: Organization, *items) -> None:
    """Every given row (person, department, report…) must belong to ``organization``."""
    for item in items:
        if item is not None and item.organization_id != organization.pk:
            raise PermissionDenied("another organization's data")


def lock_case(case: Case) -> None:
    """Lock the case row until the transaction ends, so that a check-then-insert on it (one evidence item per
    hash, one active grant per joint body) is not raced by a second click (PostgreSQL; SQLite serialises
    writers anyway)."""
    list(Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True))


def check_assignee(organization: Organization, user) -> None:
    if user is not None and not Membership.objects.filter(user=user, organization=organization).exists():
        raise IncidentActionError(_("担当者にはこの組織のメンバーを選んでください。"))


def notify_on_commit(send, *args) -> None:
    """Send the mail once the change is committed; a mail failure is logged and never undoes the change."""

    def deliver():
        try:
            send(*args)
        except Exception:
            logger.exception("incident notification failed: %s", getattr(send, "__name__", send))

    transaction.on_commit(deliver)
