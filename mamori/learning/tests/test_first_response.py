"""The ward's report contact and first-response rules, edited by its security_admin."""

from django.urls import reverse

from mamori.core.models import AuditEntry, Organization
from mamori.core.tests.base import BaseTestCase
from mamori.learning.content import MAX_RULES


class FirstResponsePageTests(BaseTestCase):
    url = reverse("learning:first-response")

    def test_it_shows_the_form_and_the_default_rules(self):
        self.login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, 'name="report_contact"')
        self.assertContains(response, 'name="first_response_rules"')
        self.assertContains(response, "自分でウイルス対策ソフトを実行しない")

    def test_the_settings_page_links_to_it(self):
        self.login(self.alice)
        self.assertContains(self.client.get(reverse("core:settings")), self.url)

    def test_it_saves_the_contact_and_the_rules_one_per_line(self):
        self.login(self.alice)
        response = self.client.post(
            self.url,
            {
                "report_contact": " 情報政策課（内線 1234） ",
                "first_response_rules": "  すぐ電話する \r\n\r\nLANケーブルを抜く\n",
            },
        )
        self.assertRedirects(response, self.url)
        self.ward_a.refresh_from_db()
        self.assertEqual(self.ward_a.report_contact, "情報政策課（内線 1234）")
        self.assertEqual(self.ward_a.first_response_rules, "すぐ電話する\nLANケーブルを抜く")
        entry = AuditEntry.objects.get(action="organization.first_response_changed")
        self.assertEqual((entry.organization, entry.actor), (self.ward_a, self.alice))

    def test_it_refuses_too_many_or_too_long_rules(self):
        self.login(self.alice)
        too_many = "\n".join(f"ルール{n}" for n in range(MAX_RULES + 1))
        response = self.client.post(self.url, {"report_contact": "", "first_response_rules": too_many})
        self.assertContains(response, "ルールは10行までにしてください（いま11行あります）。")
        response = self.client.post(self.url, {"report_contact": "", "first_response_rules": "短い\n" + "長" * 201})
        self.assertContains(response, "2行目が長すぎます。")
        self.ward_a.refresh_from_db()
        self.assertEqual(self.ward_a.first_response_rules, "")

    def test_an_auditor_may_not_edit(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self.client.post(self.url, {"report_contact": "x"}).status_code, 403)

    def test_charlie_edits_his_own_ward_only(self):
        self.login(self.charlie)
        response = self.client.get(self.url)
        self.assertNotContains(response, "A区")
        self.client.post(self.url, {"report_contact": "B区 窓口", "first_response_rules": ""})
        self.assertEqual(Organization.objects.get(pk=self.ward_b.pk).report_contact, "B区 窓口")
        self.assertEqual(Organization.objects.get(pk=self.ward_a.pk).report_contact, "")
