"""Evidence items (hashed server-side, or registered by a typed hash) and their chain of custody."""

import datetime
import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Organization
from mamori.incidents.actions.access import active_grant, require_ward
from mamori.incidents.actions.common import (
    HASH_CHUNK,
    SHA256_PATTERN,
    EvidenceIntegrityError,
    IncidentActionError,
    check_choice,
    check_not_future,
    clean_text,
    clean_title,
    lock_case,
)
from mamori.incidents.models import Case, CustodyEntry, Evidence, TimePrecision


def evidence_directory(case: Case) -> Path:
    return Path(settings.DATA_DIR) / "evidence" / str(case.public_id)


def evidence_path(evidence: Evidence) -> Path:
    """Where a stored evidence file lives: DATA_DIR/evidence/<case public id>/<sha256>.

    Both parts come from mamori (a UUID and a hex digest), never from a file name the user gave; the digest
    is checked again here so that a row written by other means cannot point outside the case's directory.
    """
    if not SHA256_PATTERN.match(evidence.sha256 or ""):
        raise EvidenceIntegrityError(_("証拠の SHA-256 が正しい形式ではありません。"))
    return evidence_directory(evidence.case) / evidence.sha256


@transaction.atomic
def register_evidence(
    case: Case,
    *,
    actor,
    organization: Organization,
    description: str,
    kind: str = Evidence.Kind.OTHER,
    upload=None,
    sha256: str = "",
    size: int | None = None,
    file_name: str = "",
    acquired_at: datetime.datetime | None = None,
    acquired_precision: str = TimePrecision.EXACT,
    collector: str = "",
    request=None,
) -> Evidence:
    """Register an evidence item, with its first custody entry (取得).

    With ``upload`` (a Django ``UploadedFile`` or any binary file object) the bytes are streamed in chunks
    to disk while hashed, and refused past ``INCIDENTS_EVIDENCE_MAX_BYTES``; the SHA-256 is the server's.
    Without it (a disk image kept offline) the typed 64-hex SHA-256 is registered as given.
    """
    require_ward(case, organization)
    now = timezone.now()
    description = clean_title(description, label=_("内容"), limit=300)
    check_choice(kind, Evidence.Kind, _("種類"))
    check_choice(acquired_precision, TimePrecision, _("取得日時の確かさ"))
    if acquired_at is not None:
        check_not_future(acquired_at, now, _("取得日時"))
    stored_path = None
    if upload is not None:
        sha256, size, stored_path = _store_upload(case, upload)
        file_name = file_name or Path(getattr(upload, "name", "") or "").name
    else:
        sha256 = (sha256 or "").strip().lower()
        if not SHA256_PATTERN.match(sha256):
            raise IncidentActionError(_("SHA-256 は16進数64文字で入力してください。"))
        if size is not None and size < 0:
            raise IncidentActionError(_("サイズは0以上の数で入力してください。"))
    lock_case(case)
    if Evidence.objects.filter(case=case, sha256=sha256).exists():
        if stored_path is not None and not Evidence.objects.filter(case=case, sha256=sha256, stored=True).exists():
            stored_path.unlink(missing_ok=True)
        raise IncidentActionError(_("同じ内容（同じ SHA-256）の証拠がすでに登録されています。"))
    evidence = Evidence.objects.create(
        case=case,
        description=description,
        kind=kind,
        sha256=sha256,
        size=size,
        stored=stored_path is not None,
        file_name=file_name[:255],
        acquired_at=acquired_at,
        acquired_precision=acquired_precision,
        collector=collector.strip()[:200],
        registered_by=actor,
        registered_by_organization=organization,
        created_at=now,
    )
    CustodyEntry.objects.create(
        evidence=evidence,
        at=acquired_at or now,
        action=CustodyEntry.Action.ACQUIRED,
        to_holder=evidence.collector,
        actor=actor,
        actor_organization=organization,
    )
    record(
        "incident.evidence_registered",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        evidence=str(evidence.public_id),
        sha256=sha256,
        stored=evidence.stored,
    )
    return evidence


def _store_upload(case: Case, upload) -> tuple[str, int, Path]:
    """Stream ``upload`` to the case's evidence directory while hashing; refuse it past the size limit."""
    limit = settings.INCIDENTS_EVIDENCE_MAX_BYTES
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise IncidentActionError(_oversize_message(limit))
    directory = evidence_directory(case)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".upload-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for chunk in _chunks(upload):
                size += len(chunk)
                if size > limit:
                    raise IncidentActionError(_oversize_message(limit))
                digest.update(chunk)
                out.write(chunk)
        final = directory / digest.hexdigest()
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest(), size, final


def _chunks(upload):
    if hasattr(upload, "chunks"):
        yield from upload.chunks(HASH_CHUNK)
        return
    while chunk := upload.read(HASH_CHUNK):
        yield chunk


def _oversize_message(limit: int) -> str:
    return _(
        "ファイルが大きすぎます（上限 %(limit)s）。大きな証拠はファイルを手元で保管し、SHA-256 だけを登録してください。"
    ) % {"limit": filesizeformat(limit)}


def evidence_visible(evidence: Evidence, organization: Organization) -> bool:
    """The ward sees its evidence; a joint body only when its active grant shares evidence."""
    if evidence.case.organization_id == organization.pk:
        return True
    grant = active_grant(evidence.case, organization) if organization.kind == Organization.Kind.JOINT else None
    return grant is not None and grant.share_evidence


def verified_evidence_file(evidence: Evidence, *, actor, organization: Organization, request=None) -> Path:
    """The stored file of ``evidence`` after re-checking its SHA-256 (download). Audited either way."""
    if not evidence_visible(evidence, organization):
        raise PermissionDenied("evidence not shared")
    if not evidence.stored:
        raise IncidentActionError(_("この証拠はファイルを預かっていません（ハッシュ値のみの登録です）。"))
    digest = hashlib.sha256()
    try:
        path = evidence_path(evidence)
        with path.open("rb") as stored:
            while chunk := stored.read(HASH_CHUNK):
                digest.update(chunk)
    except (FileNotFoundError, EvidenceIntegrityError):
        digest = None
    intact = digest is not None and digest.hexdigest() == evidence.sha256
    record(
        "incident.evidence_downloaded" if intact else "incident.evidence_integrity_failed",
        organization=organization,
        actor=actor,
        request=request,
        target=evidence.case,
        case=str(evidence.case.public_id),
        evidence=str(evidence.public_id),
    )
    if not intact:
        raise EvidenceIntegrityError(
            _("証拠ファイルが見つからないか、SHA-256 が登録時と一致しません。改ざん・破損のおそれがあります。")
        )
    return path


@transaction.atomic
def add_custody(
    evidence: Evidence,
    *,
    actor,
    organization: Organization,
    action: str,
    at: datetime.datetime | None = None,
    from_holder: str = "",
    to_holder: str = "",
    note: str = "",
    request=None,
) -> CustodyEntry:
    """Add a step to the chain of custody (the ward, or a joint body whose grant shares evidence)."""
    if not evidence_visible(evidence, organization):
        raise PermissionDenied("evidence not shared")
    now = timezone.now()
    check_choice(action, CustodyEntry.Action, _("内容"))
    at = at or now
    check_not_future(at, now, _("日時"))
    if evidence.custody.filter(action=CustodyEntry.Action.DISPOSED).exists():
        raise IncidentActionError(_("廃棄済みの証拠には記録を追加できません。"))
    entry = CustodyEntry.objects.create(
        evidence=evidence,
        at=at,
        action=action,
        from_holder=from_holder.strip()[:200],
        to_holder=to_holder.strip()[:200],
        actor=actor,
        actor_organization=organization,
        note=clean_text(note),
    )
    record(
        "incident.custody_added",
        organization=organization,
        actor=actor,
        request=request,
        target=evidence.case,
        case=str(evidence.case.public_id),
        evidence=str(evidence.public_id),
        custody_action=action,
    )
    return entry
