"""Filing what staff send from the report page: who is reporting, the 5W1H report, the near miss.

How the page knows the organization and the reporter (no account is needed, LGWAN terminals included):

0. ``/report/`` alone asks for the work email and opens the page of the organization owning its verified
   mail domain (it lists no organizations); with a single reporting organization it opens that one.
1. ``/report/?token=<delivery token>`` (the teachable moment's 「今すぐ報告する」): the delivery names the
   organization, and its recipient is the reporter.
2. ``/report/p/<personal link>/``: a link signed with ``django.core.signing`` carrying a Person's public
   id (and, in a response drill, the participant's): it names the organization and the reporter.
3. ``/report/<organization code>/`` (bookmarked on the ward's terminals): the reporter types the work
   email; an address in the roster identifies them, any other address is kept as written and marked
   unverified for triage. The page answers both the same way, so it never tells whether an address exists.
"""

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from mamori.core.models import Department, Organization, Person
from mamori.drills.models import Delivery
from mamori.drills.tracking.hits import is_well_formed
from mamori.reporting import response_drills
from mamori.reporting.actions import ingest_message
from mamori.reporting.models import IncidentReport, NearMiss, Report
from mamori.reporting.personal_links import read_personal_link

# Anti-abuse: at most this many submissions per client address per window (an LGWAN segment behind one
# proxy address is a whole floor, so the limit is generous; its point is to stop a script).
RATE_LIMIT_SUBMISSIONS = 30
RATE_LIMIT_WINDOW_SECONDS = 600


@dataclass(frozen=True)
class Reporter:
    """Who is reporting, as far as the page can tell."""

    organization: Organization
    identified_by: str
    person: Person | None = None
    email: str = ""
    delivery: Delivery | None = None
    participant_id: uuid.UUID | None = None

    @property
    def department(self) -> Department | None:
        return self.person.department if self.person else None


def reporter_from_personal_link(token: str) -> Reporter | None:
    """The reporter a valid personal link names (an active person), else None."""
    link = read_personal_link(token)
    if link is None:
        return None
    person = (
        Person.objects.select_related("organization", "department")
        .filter(public_id=link.person_id, active=True)
        .first()
    )
    if person is None:
        return None
    return Reporter(
        organization=person.organization,
        identified_by=IncidentReport.Identification.PERSONAL_LINK,
        person=person,
        email=person.email,
        participant_id=link.participant_id,
    )


def reporter_from_delivery_token(token: str) -> Reporter | None:
    """The recipient of the drill mail ``token`` names, whatever state its campaign is in (late reports count)."""
    if not token or not is_well_formed(token):
        return None
    delivery = Delivery.objects.select_related("organization", "person__department").filter(token=token).first()
    if delivery is None:
        return None
    return Reporter(
        organization=delivery.organization,
        identified_by=IncidentReport.Identification.DELIVERY_LINK,
        person=delivery.person,
        email=delivery.email,
        delivery=delivery,
    )


def reporter_from_email(organization: Organization, email: str) -> Reporter:
    """The roster entry of a typed work email, or an unverified reporter who typed that address."""
    email = email.strip().lower()
    person = (
        Person.objects.select_related("department").filter(organization=organization, email=email, active=True).first()
    )
    if person is None:
        return Reporter(organization=organization, identified_by=IncidentReport.Identification.UNVERIFIED, email=email)
    return Reporter(
        organization=organization,
        identified_by=IncidentReport.Identification.ROSTER_EMAIL,
        person=person,
        email=person.email,
    )


def allow_submission(address: str) -> bool:
    """Count one submission from ``address``; False once it is over the limit of its window.

    A fixed window in the shared cache. ``add`` then ``incr`` may let a few extra through in a race,
    which is fine for a limit meant to stop a script, not to count exactly.
    """
    window = int(timezone.now().timestamp()) // RATE_LIMIT_WINDOW_SECONDS
    key = f"reporting:submissions:{address or 'unknown'}:{window}"
    cache.add(key, 0, RATE_LIMIT_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_LIMIT_WINDOW_SECONDS)
        count = 1
    return count <= RATE_LIMIT_SUBMISSIONS


def ingest_suspicious_mail(reporter: Reporter, raw: bytes) -> Report:
    """The pasted or uploaded mail through the one ingest path, as the mailbox would take it."""
    return ingest_message(
        reporter.organization, raw, channel=Report.Channel.PAGE, reporter_email=reporter.email or None
    )


def mark_delivery_reported(delivery: Delivery, at) -> None:
    """The recipient reported the drill from its own link: the first report time, if none is stored yet."""
    Delivery.objects.filter(pk=delivery.pk, reported_at__isnull=True).update(reported_at=at)


def file_incident_report(reporter: Reporter, fields: dict, *, raw_mail: bytes = b"", client_address: str = ""):
    """Store a 5W1H report (and the suspicious mail, if any); link it to its drill; return it.

    The mail goes through ``ingest_message`` first and outside this function's transaction: that path
    keeps the original in its own transaction, and a failure here must not take the kept mail with it.
    """
    suspicious_mail = ingest_suspicious_mail(reporter, raw_mail) if raw_mail else None
    now = timezone.now()
    with transaction.atomic():
        report = IncidentReport.objects.create(
            organization=reporter.organization,
            occurred_at=fields.get("occurred_at"),
            occurred_precision=fields["occurred_precision"],
            where=fields.get("where", ""),
            who=fields.get("who", ""),
            what=fields.get("what", ""),
            outcome=fields.get("outcome", ""),
            actions_taken=list(fields.get("actions_taken") or []),
            actions_note=fields.get("actions_note", ""),
            identified_by=reporter.identified_by,
            reporter=reporter.person,
            reporter_email=reporter.email,
            department=reporter.department,
            delivery=reporter.delivery,
            suspicious_mail=suspicious_mail,
            client_address=client_address,
            submitted_at=now,
        )
        if reporter.delivery is not None:
            mark_delivery_reported(reporter.delivery, now)
        if reporter.participant_id is not None and reporter.person is not None:
            response_drills.attach_report(report, reporter.person, reporter.participant_id)
    return report


def file_near_miss(reporter: Reporter | None, organization: Organization, fields: dict) -> NearMiss:
    """Store a near miss; an anonymous one keeps only the department chosen."""
    anonymous = bool(fields.get("anonymous"))
    department = fields.get("department")
    if not anonymous and reporter is not None and department is None:
        department = reporter.department
    return NearMiss.objects.create(
        organization=organization,
        kind=fields["kind"],
        description=fields.get("description", ""),
        department=department,
        anonymous=anonymous,
        reporter=None if anonymous or reporter is None else reporter.person,
        reporter_email="" if anonymous or reporter is None else reporter.email,
    )
