"""An auditor logs in, finds staff with the htmx search, and switches language — with no CSP violation."""

from playwright.sync_api import expect

from mamori.browser_tests.base import BrowserTestCase
from mamori.core.demo import demo_roster
from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user

PASSWORD = "correct-horse-42"


class PeoplePageTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.ward_a = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        self.ward_b = make_organization("ward-b", "B区", domain="city-b.lg.jp")
        self.bob = make_user("bob", organization=self.ward_a, role=Membership.Role.AUDITOR, password=PASSWORD)
        documents = make_department(self.ward_a, "総務部/総務課/文書係")
        tax = make_department(self.ward_a, "区民部/税務課/課税係")
        make_person(self.ward_a, "山田 太郎", department=documents, name_kana="やまだ たろう", position="係長")
        for row in demo_roster()[:60]:
            if not row.name.startswith("山田"):
                make_person(self.ward_a, row.name, department=tax, name_kana=row.name_kana, position="主事")
        self.staff_count = self.ward_a.people.count()
        make_person(self.ward_b, "山田 花子", name_kana="やまだ はなこ")

    def test_the_search_box_updates_the_table_without_a_full_reload(self):
        self.log_in(self.live_server_url, "bob", PASSWORD)
        self.page.goto(self.url("/people/"))
        results = self.page.locator("#people-results")
        expect(results).to_contain_text(f"{self.staff_count} 人")
        # A full page load would wipe this marker; an htmx swap keeps it.
        self.page.evaluate("window.mamoriNoReload = true")
        with self.page.expect_response(lambda response: response.request.headers.get("hx-request") == "true"):
            self.page.fill("#id_q", "やまだ")
        expect(results.locator("tbody tr")).to_have_count(1)
        expect(results).to_contain_text("山田 太郎")
        expect(results).not_to_contain_text("山田 花子")  # ward B's staff stay out of ward A's roster
        self.assertTrue(self.page.evaluate("window.mamoriNoReload === true"))
        self.assertIn("q=", self.page.url)  # the search is in the address bar, so it can be shared or reloaded
        self.page.fill("#id_q", "")
        expect(results).to_contain_text(f"{self.staff_count} 人")
        self.screenshot("people")
        self.assert_no_csp_violations()

    def test_the_language_switches_to_english_and_back(self):
        self.log_in(self.live_server_url, "bob", PASSWORD)
        self.page.goto(self.url("/people/"))
        expect(self.page.locator("html")).to_have_attribute("lang", "ja")
        with self.page.expect_navigation():
            self.page.click("button[name=language][value=en]")
        expect(self.page.locator("html")).to_have_attribute("lang", "en")
        self.assertTrue(self.page.url.endswith("/people/"))
        with self.page.expect_navigation():
            self.page.click("button[name=language][value=ja]")
        expect(self.page.locator("html")).to_have_attribute("lang", "ja")
        expect(self.page.locator("h1")).to_have_text("職員名簿")
        self.assert_no_csp_violations()

    def test_a_wrong_password_keeps_the_user_on_the_login_page(self):
        self.log_in(self.live_server_url, "bob", "not-the-password")
        self.assertIn("/accounts/login/", self.page.url)
        self.page.goto(self.url("/people/"))
        self.assertIn("/accounts/login/", self.page.url)
        self.assert_no_csp_violations()
