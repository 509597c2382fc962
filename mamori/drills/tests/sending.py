"""Test data for the sender: a launched campaign whose deliveries are due, aimed at a test SMTP server."""

import datetime

from django.utils import timezone

from mamori.core.tests.makers import make_person
from mamori.drills.models import Campaign, Delivery
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile


def make_due_campaign(organization, *, port: int, recipients: int = 3, scenario=None, round_number: int = 1, **profile):
    """A scheduled campaign with ``recipients`` queued deliveries due a minute ago, sent to 127.0.0.1:``port``."""
    sending_profile = make_sending_profile(organization, f"profile-{round_number}", port=port, **profile)
    scenario = scenario or make_scenario(organization)
    campaign = make_campaign(
        organization,
        scenarios=[scenario],
        profile=sending_profile,
        round_number=round_number,
        state=Campaign.State.SCHEDULED,
    )
    domain = organization.domains.values_list("domain", flat=True).first()
    due = timezone.now() - datetime.timedelta(minutes=1)
    people = [
        make_person(organization, f"職員 {round_number}-{number}", email=f"r{round_number}-{number}@{domain}")
        for number in range(recipients)
    ]
    Delivery.objects.bulk_create(
        Delivery(
            organization=organization,
            campaign=campaign,
            person=person,
            scenario=scenario,
            email=person.email,
            scheduled_at=due,
        )
        for person in people
    )
    return campaign
