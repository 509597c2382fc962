"""Hand-built drill outcomes for the metrics tests: deliveries with exactly the times a test needs."""

import datetime

from django.utils import timezone

from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile

JST = datetime.timezone(datetime.timedelta(hours=9))
SENT = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=JST)


def moderate_scenario(organization, name: str = "中程度のシナリオ"):
    """A Phish Scale 「中」 scenario (9–14 cues, medium premise alignment): difficulty factor 1.0."""
    return make_scenario(organization, name=name, cue_count=10, premise_alignment="medium")


def launched_campaign(
    organization,
    round_number: int,
    *,
    fiscal_year: int = 2026,
    scenario=None,
    profile=None,
    starts_on: datetime.date | None = None,
    state=Campaign.State.CLOSED,
) -> Campaign:
    scenario = scenario or moderate_scenario(organization, name=f"シナリオ{fiscal_year}-{round_number}")
    if starts_on is None:  # one round a quarter: April, July, October, January
        months = fiscal_year * 12 + 3 + 3 * ((round_number - 1) % 4)
        starts_on = datetime.date(months // 12, months % 12 + 1, 1)
    campaign = make_campaign(
        organization,
        scenarios=[scenario],
        profile=profile or make_sending_profile(organization, name=f"SMTP{fiscal_year}-{round_number}"),
        round_number=round_number,
        fiscal_year=fiscal_year,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=3),
    )
    campaign.state = state
    campaign.launched_at = timezone.now()
    if state == Campaign.State.CLOSED:
        campaign.closed_at = timezone.now()
    campaign.save()
    return campaign


def deliver(campaign: Campaign, person, *, sent_at=SENT, scenario=None, state=Delivery.State.SENT, **times):
    """A delivery to ``person``; ``times`` are offsets from ``sent_at`` (timedelta) for ``reported_at`` and
    the ``first_*_at`` fields, e.g. ``reported_at=timedelta(minutes=5)``."""
    values = {name: sent_at + offset for name, offset in times.items() if offset is not None}
    return Delivery.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        person=person,
        scenario=scenario or campaign.scenarios.first(),
        email=person.email,
        scheduled_at=sent_at,
        state=state,
        sent_at=sent_at if state == Delivery.State.SENT else None,
        **values,
    )


def hit(delivery: Delivery, kind: str, *, automated: bool | None, after=datetime.timedelta(minutes=1)) -> Event:
    return Event.objects.create(
        organization=delivery.organization,
        delivery=delivery,
        kind=kind,
        at=delivery.sent_at + after,
        automated=automated,
    )
