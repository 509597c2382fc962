"""Every state change of tenancy data; views, API, commands and tests call these."""

import hashlib
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Organization, RosterImport, VerifiedDomain
from mamori.core.roster.check import RosterCheck, check_roster
from mamori.core.roster.progress import ProgressPublisher
from mamori.core.roster.sync import apply_plan

logger = logging.getLogger(__name__)


@transaction.atomic
def create_organization(
    code: str, name: str, *, kind: str = Organization.Kind.WARD, domains=(), by=None
) -> Organization:
    """Register a ward, joint body or partner with its verified mail domains (operators only, via the command)."""
    organization = Organization(code=code, name=name, kind=kind)
    organization.full_clean()
    organization.save()
    record("organization.created", organization=organization, actor=by, target=code, name=name, kind=kind)
    for domain in domains:
        verify_domain(organization, domain, by=by)
    return organization


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


# 名簿取込: upload (validated at once) → confirm → the worker re-validates and applies in one transaction.

# A running import whose lease ran out belongs to a dead worker and is claimed again; the apply is one
# transaction, so the dead worker left nothing behind. 100,000 rows take well under a minute.
ROSTER_IMPORT_LEASE = timedelta(minutes=15)


def upload_roster(organization: Organization, *, filename: str, content: bytes, by, request=None) -> RosterImport:
    """Validate a roster file and keep it as an import: ``validated`` (awaiting confirmation) or ``invalid``.

    The check runs outside the transaction: it only reads, and on SQLite a write transaction would hold
    the database lock for the seconds a large file takes to check.
    """
    check = check_roster(organization, content)
    with transaction.atomic():
        roster_import = RosterImport.objects.create(
            organization=organization,
            uploaded_by=by,
            filename=filename[:255],
            # An invalid file can never be applied: its errors are kept, the staff data in it is not.
            content=content if check.ok else b"",
            sha256=hashlib.sha256(content).hexdigest(),
            state=RosterImport.State.VALIDATED if check.ok else RosterImport.State.INVALID,
            summary=check.summary,
            errors=check.errors,
            error_count=check.error_count,
            total_rows=check.total_rows,
        )
        record(
            "roster.uploaded",
            organization=organization,
            actor=by,
            request=request,
            target=roster_import.filename,
            import_id=str(roster_import.public_id),
            state=roster_import.state,
            rows=check.total_rows,
            error_count=check.error_count,
        )
    return roster_import


def confirm_roster_import(roster_import: RosterImport, *, by, request=None) -> bool:
    """Queue a validated import for the worker; False if it is not (or no longer) awaiting confirmation."""
    with transaction.atomic():
        confirmed = _move_roster_import(
            roster_import,
            RosterImport.State.VALIDATED,
            RosterImport.State.QUEUED,
            confirmed_by=by,
            confirmed_at=timezone.now(),
        )
        if confirmed:
            _record_roster_event("roster.confirmed", roster_import, actor=by, request=request)
    return confirmed


def run_roster_import_now(roster_import: RosterImport, *, by=None) -> RosterImport:
    """Confirm and apply in this process (the import-roster command); the worker never sees it queued."""
    now = timezone.now()
    with transaction.atomic():
        started = _move_roster_import(
            roster_import,
            RosterImport.State.VALIDATED,
            RosterImport.State.RUNNING,
            confirmed_by=by,
            confirmed_at=now,
            lease_until=now + ROSTER_IMPORT_LEASE,
        )
        if not started:
            return roster_import
        _record_roster_event("roster.confirmed", roster_import, actor=by)
    return apply_roster_import(roster_import)


def claim_roster_import() -> RosterImport | None:
    """Take the oldest queued import (or one whose worker died) and mark it running under a fresh lease.

    The conditional UPDATE is the claim: of two workers racing for one row, only one updates it.
    """
    now = timezone.now()
    due = Q(state=RosterImport.State.QUEUED) | Q(state=RosterImport.State.RUNNING, lease_until__lt=now)
    candidates = RosterImport.objects.filter(due).order_by("confirmed_at", "pk").values_list("pk", flat=True)[:5]
    for pk in candidates:
        if RosterImport.objects.filter(due, pk=pk).update(
            state=RosterImport.State.RUNNING, lease_until=now + ROSTER_IMPORT_LEASE
        ):
            return RosterImport.objects.select_related("organization", "confirmed_by").get(pk=pk)
    return None


def process_next_roster_import() -> bool:
    """The worker's handler: apply one due import; False when none is due."""
    roster_import = claim_roster_import()
    if roster_import is None:
        return False
    apply_roster_import(roster_import)
    return True


class RosterRejectedError(Exception):
    """The roster no longer passes validation at apply time (the organization changed since the preview)."""

    def __init__(self, check: RosterCheck) -> None:
        super().__init__(f"{check.error_count} errors")
        self.check = check


def apply_roster_import(roster_import: RosterImport) -> RosterImport:
    """Re-validate a running import and apply it in one transaction; it ends ``done`` or ``failed``.

    The organization row is locked first, so two imports of one organization never interleave
    (PostgreSQL; SQLite serialises all writers anyway). Progress goes to the cache, which the
    web process can read while the transaction is still open.
    """
    publisher = ProgressPublisher(roster_import)
    publisher(0, 0, _("名簿をもう一度検証しています"))
    try:
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=roster_import.organization_id)
            check = check_roster(organization, bytes(roster_import.content))
            if not check.ok or check.plan is None or check.existing is None:
                raise RosterRejectedError(check)
            counts = apply_plan(organization, check.plan, check.existing, publisher)
            _finish_roster_import(
                roster_import,
                RosterImport.State.DONE,
                summary={**check.summary, "result": counts},
                total_rows=check.total_rows,
                processed_rows=check.total_rows,
            )
            _record_roster_event("roster.applied", roster_import, actor=roster_import.confirmed_by, **counts)
    except RosterRejectedError as rejected:
        _fail_roster_import(
            roster_import, rejected.check.errors, rejected.check.error_count, summary=rejected.check.summary
        )
    except Exception:
        logger.exception("roster import %s failed", roster_import.public_id)
        message = _(
            "取込中に予期しないエラーが発生したため、何も変更していません。システム管理者にログの確認を依頼してください。"
        )
        _fail_roster_import(roster_import, [{"row": None, "column": "", "message": message}], 1)
    finally:
        publisher.clear()
    return roster_import


def _move_roster_import(roster_import: RosterImport, from_state: str, to_state: str, **fields) -> bool:
    """Conditional state change: only if the row is still in ``from_state`` (a double submit does nothing)."""
    moved = RosterImport.objects.filter(pk=roster_import.pk, state=from_state).update(state=to_state, **fields)
    if moved:
        roster_import.state = to_state
        for name, value in fields.items():
            setattr(roster_import, name, value)
    return bool(moved)


def _finish_roster_import(roster_import: RosterImport, state: str, **fields) -> None:
    # The file's personal data is not kept once it can no longer be applied; the sha256 identifies it.
    fields.update(state=state, content=b"", lease_until=None, finished_at=timezone.now())
    RosterImport.objects.filter(pk=roster_import.pk).update(**fields)
    for name, value in fields.items():
        setattr(roster_import, name, value)


def _fail_roster_import(roster_import: RosterImport, errors: list[dict], error_count: int, **fields) -> None:
    with transaction.atomic():
        _finish_roster_import(
            roster_import, RosterImport.State.FAILED, errors=errors, error_count=error_count, **fields
        )
        _record_roster_event("roster.failed", roster_import, actor=roster_import.confirmed_by, error_count=error_count)


def _record_roster_event(action: str, roster_import: RosterImport, *, actor, request=None, **details) -> None:
    record(
        action,
        organization=roster_import.organization,
        actor=actor,
        request=request,
        target=roster_import.filename,
        import_id=str(roster_import.public_id),
        **details,
    )
