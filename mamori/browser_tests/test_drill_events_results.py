"""The results of a drill in a browser: an admin reads the funnel, narrows it with htmx, opens a timeline."""

import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import expect

from mamori.accounts.mfa import SESSION_MFA_KEY
from mamori.browser_tests.base import SCREENSHOTS, BrowserTestCase
from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.tests.makers import make_campaign, make_scenario

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def signed_in_cookie(user, base_url: str) -> dict:
    """A session that has passed login and TOTP, as a browser cookie (the TOTP form has its own tests)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_MFA_KEY] = timezone.now().isoformat()
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}


def save_full_page(page, name: str) -> Path:
    """A screenshot of the whole page (not only the viewport) into test-results/, to be looked at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class ResultsPageTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        self.alice = make_user("alice", organization=ward, role=Membership.Role.SECURITY_ADMIN)
        documents = make_department(ward, "総務部/総務課/文書係")
        tax = make_department(ward, "区民部/税務課")
        self.campaign = make_campaign(ward, scenarios=[make_scenario(ward, "委託先からの請求書")], title="請求書訓練")
        Campaign.objects.filter(pk=self.campaign.pk).update(state=Campaign.State.RUNNING)
        sent = timezone.now() - datetime.timedelta(hours=3)
        for number in range(12):
            person = make_person(
                ward, f"職員 {number:02d}", department=documents if number < 5 else tax, position="主事"
            )
            clicked = sent + datetime.timedelta(minutes=5 + number) if number % 3 == 0 else None
            delivery = Delivery.objects.create(
                organization=ward,
                campaign=self.campaign,
                person=person,
                scenario=self.campaign.scenarios.get(),
                email=person.email,
                scheduled_at=sent,
                state=Delivery.State.SENT,
                sent_at=sent,
                first_clicked_at=clicked,
                reported_at=sent + datetime.timedelta(minutes=20 + number) if number % 4 == 1 else None,
            )
            Event.objects.create(
                organization=ward,
                delivery=delivery,
                kind=Event.Kind.CLICK,
                at=sent + datetime.timedelta(seconds=2),
                automated=True,
                reasons=["latency", "scanner_user_agent"],
                user_agent="Mozilla/5.0 (compatible; SafeLinks)",
            )
            if clicked:
                Event.objects.create(
                    organization=ward, delivery=delivery, kind=Event.Kind.CLICK, at=clicked, automated=False
                )

    def test_an_admin_reads_the_funnel_narrows_it_and_opens_a_timeline(self):
        self.context.add_cookies([signed_in_cookie(self.alice, self.live_server_url)])
        url = self.url(f"/drills/campaigns/{self.campaign.public_id}/results/")
        for name, viewport in (("results-desktop", DESKTOP), ("results-phone", PHONE)):
            self.page.set_viewport_size(viewport)
            self.page.goto(url)
            expect(self.page.locator("h1")).to_contain_text("訓練結果")
            expect(self.page.locator("table.funnel")).to_contain_text("リンクをクリック")
            save_full_page(self.page, name)
        self.page.set_viewport_size(DESKTOP)
        self.page.evaluate("window.mamoriNoReload = true")
        with self.page.expect_response(lambda response: response.request.headers.get("hx-request") == "true"):
            self.page.select_option("#id_department", label="区民部 › 税務課")
        expect(self.page.locator(".figures")).to_contain_text("7 人")
        self.assertTrue(self.page.evaluate("window.mamoriNoReload === true"))
        self.page.click("text=職員ごとの結果（タイムライン）")
        expect(self.page.locator("h1")).to_contain_text("職員ごとの結果")
        expect(self.page.locator("#results-body")).to_contain_text("7 人")  # the list opens with the same filter
        self.page.locator("details summary").first.click()
        expect(self.page.locator("ol.timeline").first).to_contain_text("自動アクセス（除外）")
        save_full_page(self.page, "results-people")
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])
