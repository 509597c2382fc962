"""Plain test-data helpers for drills."""

import datetime

from mamori.drills.models import Campaign, Scenario, SendingProfile


def make_scenario(organization, name: str = "総務課からの通達", **fields) -> Scenario:
    values = {
        "subject": "【総務課】{{ today }}付け通達の件（要返信）",
        "sender_name": "総務課 文書係",
        "sender_address": "soumu@example-lookalike.jp",
        "text_body": "{{ person_name }} 様\n\n通達を確認してください。\n{{ link }}\n",
        "cues": [{"label": "差出人のドメイン", "detail": "区のドメインではありません。"}],
    }
    values.update(fields)
    return Scenario.objects.create(organization=organization, name=name, **values)


def make_sending_profile(organization, name: str = "庁内SMTP", **fields) -> SendingProfile:
    values = {"host": "127.0.0.1", "port": 1025, "security": SendingProfile.Security.NONE, "rate_per_minute": 0}
    values.update(fields)
    return SendingProfile.objects.create(organization=organization, name=name, **values)


def make_campaign(organization, *, scenarios=(), profile=None, round_number: int = 1, **fields) -> Campaign:
    values = {
        "fiscal_year": 2026,
        "round_number": round_number,
        "starts_on": datetime.date(2026, 12, 1),
        "ends_on": datetime.date(2026, 12, 4),
        "sending_profile": profile or make_sending_profile(organization),
    }
    values.update(fields)
    campaign = Campaign.objects.create(organization=organization, **values)
    campaign.scenarios.set(scenarios or [make_scenario(organization)])
    return campaign
