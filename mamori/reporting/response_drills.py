"""Response drills (初動対応訓練): 「添付ファイルを実行してしまった」「不審な通信を検知」.

A security_admin starts one for a set of people. Each person and their manager (上長) get a mail with a
personal report link asking them to file the 5W1H report; the drill page shows, per person, whether each
report arrived, how complete it is, and the times along the chain person → manager → 情報システム課
(the last step is a security_admin's or CSIRT member's acknowledgement on the page).
"""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Organization, Person
from mamori.learning.content import first_response_rules, report_contact
from mamori.reporting.models import IncidentReport, ResponseDrill, ResponseDrillParticipant
from mamori.reporting.personal_links import personal_link_token


def personal_report_url(person: Person, participant: ResponseDrillParticipant) -> str:
    token = personal_link_token(person, participant_id=participant.public_id)
    return settings.SITE_URL + reverse("reporting:report-personal", args=[token])


def _send(name: str, to: str, context: dict) -> None:
    """One mail type, three templates under ``templates/reporting/mail/``, in the site language."""
    with translation.override(settings.LANGUAGE_CODE):
        prefix = f"reporting/mail/{name}"
        subject = "".join(render_to_string(f"{prefix}-subject.txt", context).splitlines()).strip()
        message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{prefix}-body.txt", context), to=[to])
        message.attach_alternative(render_to_string(f"{prefix}-body.html", context), "text/html")
    message.send()


def send_drill_request(participant: ResponseDrillParticipant, *, as_manager: bool) -> None:
    """Ask the person (or their manager) to file the 5W1H report of this drill via their personal link."""
    drill = participant.drill
    recipient = participant.manager if as_manager else participant.person
    _send(
        "response_drill_manager" if as_manager else "response_drill_person",
        recipient.email,
        {
            "drill": drill,
            "organization": drill.organization,
            "recipient": recipient,
            "person": participant.person,
            "report_url": personal_report_url(recipient, participant),
            "rules": first_response_rules(drill.organization),
            "contact": report_contact(drill.organization),
        },
    )


def notify(participant: ResponseDrillParticipant) -> None:
    """Send the person's and the manager's mails; a failure is kept on the row, the drill goes on."""
    now = timezone.now()
    try:
        send_drill_request(participant, as_manager=False)
        participant.notified_at = now
        if participant.manager is not None:
            send_drill_request(participant, as_manager=True)
            participant.manager_notified_at = now
    except Exception as error:  # an SMTP failure must not lose the drill; the page shows who was not reached
        participant.notify_error = str(error)[:500]
    participant.save(update_fields=["notified_at", "manager_notified_at", "notify_error"])


def start_response_drill(
    organization: Organization, *, scenario: str, title: str, people: list[Person], by, request=None
) -> ResponseDrill:
    """Create the drill and its participants (managers frozen now), then mail everyone."""
    with transaction.atomic():
        drill = ResponseDrill.objects.create(organization=organization, scenario=scenario, title=title, started_by=by)
        participants = ResponseDrillParticipant.objects.bulk_create(
            [
                ResponseDrillParticipant(
                    drill=drill,
                    person=person,
                    manager=person.manager if person.manager and person.manager.active else None,
                )
                for person in people
            ]
        )
        record(
            "reporting.response_drill_started",
            organization=organization,
            actor=by,
            request=request,
            target=drill,
            scenario=scenario,
            people=len(participants),
        )
    for participant in participants:
        participant.drill = drill
        notify(participant)
    return drill


def attach_report(report: IncidentReport, person: Person, participant_id: uuid.UUID) -> None:
    """File ``report`` as the person's or the manager's report in the drill its link named (first one counts).

    The participant is looked up in the report's organization and an open drill only: a link of another
    ward, or of a closed drill, files an ordinary report.
    """
    participant = (
        ResponseDrillParticipant.objects.select_for_update()
        .filter(
            public_id=participant_id,
            drill__organization=report.organization,
            drill__closed_at__isnull=True,
        )
        .first()
    )
    if participant is None:
        return
    if participant.person_id == person.pk and participant.person_report_id is None:
        participant.person_report = report
        participant.save(update_fields=["person_report"])
    elif participant.manager_id == person.pk and participant.manager_report_id is None:
        participant.manager_report = report
        participant.save(update_fields=["manager_report"])


def acknowledge(participant: ResponseDrillParticipant, *, by, request=None) -> bool:
    """情報システム課 has the report: the first acknowledgement counts. True if this one was it."""
    updated = ResponseDrillParticipant.objects.filter(pk=participant.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=by
    )
    if updated:
        record(
            "reporting.response_drill_acknowledged",
            organization=participant.drill.organization,
            actor=by,
            request=request,
            target=participant,
        )
    return bool(updated)


def close_response_drill(drill: ResponseDrill, *, by, request=None) -> None:
    if ResponseDrill.objects.filter(pk=drill.pk, closed_at__isnull=True).update(closed_at=timezone.now()):
        record(
            "reporting.response_drill_closed", organization=drill.organization, actor=by, request=request, target=drill
        )


@dataclass(frozen=True)
class ChainRow:
    """One participant as the drill page shows it: arrivals, completeness and the chain's times."""

    participant: ResponseDrillParticipant
    person_filled: int | None
    manager_filled: int | None
    to_person: datetime.timedelta | None
    person_to_manager: datetime.timedelta | None
    to_it: datetime.timedelta | None

    @property
    def total_parts(self) -> int:
        return IncidentReport.COMPLETENESS_PARTS

    @property
    def to_person_label(self) -> str:
        return duration_label(self.to_person)

    @property
    def person_to_manager_label(self) -> str:
        return duration_label(self.person_to_manager)

    @property
    def to_it_label(self) -> str:
        return duration_label(self.to_it)


def duration_label(duration: datetime.timedelta | None) -> str:
    """「1時間5分」; a negative span (the manager reported before the person) is shown with a minus sign."""
    if duration is None:
        return "—"
    sign = "−" if duration < datetime.timedelta(0) else ""
    minutes = int(abs(duration).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        text = _("%(days)s日%(hours)s時間") % {"days": days, "hours": hours}
    elif hours:
        text = _("%(hours)s時間%(minutes)s分") % {"hours": hours, "minutes": minutes}
    else:
        text = _("%(minutes)s分") % {"minutes": minutes}
    return sign + text


def _between(start, end) -> datetime.timedelta | None:
    return end - start if start and end else None


def chain_rows(drill: ResponseDrill) -> list[ChainRow]:
    """Every participant with the figures of the chain person → manager → 情報システム課 (one query)."""
    participants = drill.participants.select_related(
        "person__department", "manager", "person_report", "manager_report", "acknowledged_by"
    )
    rows = []
    for participant in participants:
        person_report = participant.person_report
        manager_report = participant.manager_report
        person_at = person_report.submitted_at if person_report else None
        manager_at = manager_report.submitted_at if manager_report else None
        # 情報システム課 hears from the last link of the chain that arrived: the manager, else the person.
        last_report_at = manager_at or person_at
        rows.append(
            ChainRow(
                participant=participant,
                person_filled=person_report.filled_parts() if person_report else None,
                manager_filled=manager_report.filled_parts() if manager_report else None,
                to_person=_between(drill.started_at, person_at),
                person_to_manager=_between(person_at, manager_at),
                to_it=_between(last_report_at, participant.acknowledged_at),
            )
        )
    return rows


@dataclass(frozen=True)
class DrillSummary:
    people: int
    person_reports: int
    manager_reports: int
    managers: int
    acknowledged: int


def summary(rows: list[ChainRow]) -> DrillSummary:
    return DrillSummary(
        people=len(rows),
        person_reports=sum(1 for row in rows if row.person_filled is not None),
        manager_reports=sum(1 for row in rows if row.manager_filled is not None),
        managers=sum(1 for row in rows if row.participant.manager_id),
        acknowledged=sum(1 for row in rows if row.participant.acknowledged_at),
    )
