"""Test data for tracking: a campaign whose mail is out, and its sent deliveries."""

import datetime
import itertools

from django.utils import timezone

from mamori.core.tests.makers import make_person
from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.tests.makers import make_campaign, make_scenario

_rounds = itertools.count(1)

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def make_running_campaign(organization, *, scenario=None, state=Campaign.State.RUNNING) -> Campaign:
    return make_campaign(
        organization, scenarios=[scenario or make_scenario(organization)], round_number=next(_rounds), state=state
    )


def make_sent_delivery(campaign: Campaign, person=None, *, sent_at: datetime.datetime | None = None) -> Delivery:
    """A delivery of ``campaign`` sent an hour ago (or at ``sent_at``), to ``person`` or a new one."""
    person = person or make_person(campaign.organization, "職員")
    return Delivery.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        person=person,
        scenario=campaign.scenarios.get(),
        email=person.email,
        scheduled_at=timezone.now() - datetime.timedelta(hours=2),
        state=Delivery.State.SENT,
        sent_at=sent_at or timezone.now() - datetime.timedelta(hours=1),
    )


def make_event(delivery: Delivery, kind=Event.Kind.CLICK, *, at: datetime.datetime, **fields) -> Event:
    """An event as the hit path stores it (unclassified), at a chosen time."""
    values = {"source": "url", "user_agent": BROWSER, "client_address": ""}
    values.update(fields)
    return Event.objects.create(organization=delivery.organization, delivery=delivery, kind=kind, at=at, **values)
