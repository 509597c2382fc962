"""Plain test-data helpers for the learning app: a delivery whose campaign is running."""

from django.utils import timezone

from mamori.drills.models import Campaign, Delivery
from mamori.drills.tests.makers import make_campaign, make_scenario


def make_delivery(
    person,
    *,
    scenario=None,
    campaign=None,
    state=Campaign.State.RUNNING,
    round_number: int = 1,
    title: str = "",
    **fields,
) -> Delivery:
    """A sent delivery to ``person``: in ``campaign``, or in a new one in ``state`` (running by default)."""
    organization = person.organization
    scenario = scenario or (campaign.scenarios.first() if campaign else make_scenario(organization))
    campaign = campaign or make_campaign(
        organization, scenarios=[scenario], round_number=round_number, state=state, title=title
    )
    values = {
        "organization": organization,
        "campaign": campaign,
        "person": person,
        "scenario": scenario,
        "email": person.email,
        "scheduled_at": timezone.now(),
        "state": Delivery.State.SENT,
        "sent_at": timezone.now(),
    }
    values.update(fields)
    return Delivery.objects.create(**values)


def make_credential_scenario(organization, name: str = "パスワード失効通知", **fields):
    values = {
        "lure_type": "credential_form",
        "subject": "【重要】パスワードがまもなく失効します",
        "sender_address": "no-reply@portal-account.example.jp",
        "text_body": (
            "{{ person_name }} 様\n\n下記のページから、現在のパスワードと新しい\nパスワードを入力してください。\n"
            "{{ link }}\n"
        ),
        "cues": [
            {
                "label": "差出人のドメイン",
                "detail": "区のドメインではありません。",
                "excerpt": "no-reply@portal-account.example.jp",
            },
            {
                "label": "現在のパスワードを入力させる",
                "detail": "パスワードはメールのリンク先で入力しません。",
                "excerpt": "現在のパスワードと新しいパスワード",
            },
        ],
    }
    values.update(fields)
    return make_scenario(organization, name, **values)
