"""Mail to on-duty contacts (当番の連絡先): escalations to the joint CSIRT, revocations, and the joint body's
entries back to the ward. Each mail type is one function with three templates under
``templates/incidents/mail/`` (``<name>-subject.txt``, ``<name>-body.txt``, ``<name>-body.html``).

Mails carry no personal data and no free text: no names (of staff, reporters or the people affected), no case
title, escalation note, timeline text or task title, any of which may name someone. They say which case (its
reference, category, severity, TLP), which organization did what, and link to the page, where the reader's
access is checked. Mail leaves mamori's access control and TLP, so it carries only what anyone on the duty
list may see.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mamori.core.models import Organization
from mamori.incidents.models import Case, DutyContact, Escalation, Task, TimelineEntry


def on_duty_addresses(organization: Organization, moment=None) -> list[str]:
    """The active contacts on duty at ``moment`` (now); all active contacts when none is on duty then,
    so that a mail at 3 a.m. still reaches someone."""
    moment = moment or timezone.now()
    contacts = list(DutyContact.objects.filter(organization=organization, active=True))
    on_duty = [contact for contact in contacts if contact.is_on_duty(moment)] or contacts
    return list(dict.fromkeys(contact.email for contact in on_duty))


def ward_case_url(case: Case) -> str:
    return f"{settings.SITE_URL}/incidents/{case.public_id}/"


def joint_case_url(case: Case) -> str:
    return f"{settings.SITE_URL}/incidents/joint/{case.public_id}/"


def _send(name: str, to: list[str], context: dict) -> bool:
    """Render and send one mail to ``to``; False when there is nobody to send it to."""
    if not to:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        prefix = f"incidents/mail/{name}"
        context = {"site_url": settings.SITE_URL, **context}
        subject = "".join(render_to_string(f"{prefix}-subject.txt", context).splitlines()).strip()
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{prefix}-body.txt", context),
            to=to,
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string(f"{prefix}-body.html", context), "text/html")
    message.send()
    return True


def send_escalation_notice(escalation: Escalation) -> bool:
    """Tell the joint body's on-duty contacts that a ward asks for help with a case."""
    case = escalation.case
    return _send(
        "escalation",
        on_duty_addresses(escalation.joint_organization),
        {
            "case": case,
            "escalation": escalation,
            "ward": case.organization,
            "url": joint_case_url(case),
        },
    )


def send_revocation_notice(escalation: Escalation) -> bool:
    """Tell the joint body's on-duty contacts that the ward has ended the grant."""
    case = escalation.case
    return _send(
        "escalation-revoked",
        on_duty_addresses(escalation.joint_organization),
        {"case": case, "escalation": escalation, "ward": case.organization},
    )


def send_joint_activity_notice(case: Case, joint_organization: Organization, item: TimelineEntry | Task) -> bool:
    """Tell the ward's on-duty contacts that the joint CSIRT added a timeline entry or a task to their case."""
    what = "task" if isinstance(item, Task) else "timeline"
    return _send(
        "joint-activity",
        on_duty_addresses(case.organization),
        {
            "case": case,
            "joint": joint_organization,
            "what": what,
            "item": item,
            "url": ward_case_url(case),
        },
    )
