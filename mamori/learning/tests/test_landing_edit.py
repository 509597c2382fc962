"""Editing a scenario's login page: texts and colours, by the ward's security_admin, scoped to the ward."""

from django.urls import reverse

from mamori.core.models import AuditEntry
from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import Scenario
from mamori.learning.models import LandingPage
from mamori.learning.tests.makers import make_credential_scenario

VALUES = {
    "page_title": "グループウェア",
    "system_name": "庁内グループウェア",
    "heading": "ログイン",
    "message": "",
    "username_label": "ユーザーID",
    "password_label": "パスワード",
    "button_label": "サインイン",
    "footer": "",
    "header_colour": "#AA0000",
    "button_colour": "#00aa00",
    "background_colour": "#ffffff",
}


class LandingEditTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.scenario = make_credential_scenario(cls.ward_a)
        cls.library = Scenario.objects.create(
            name="ライブラリ",
            subject="件名",
            sender_name="差出人",
            sender_address="a@example.jp",
            text_body="{{ link }}",
            lure_type="credential_form",
            library_key="library-login",
        )

    def edit_url(self, scenario=None):
        return reverse("learning:landing-edit", args=[(scenario or self.scenario).public_id])

    def preview_url(self, scenario=None):
        return reverse("learning:landing-preview", args=[(scenario or self.scenario).public_id])

    def test_the_scenario_page_links_to_it(self):
        self.login(self.alice)
        response = self.client.get(reverse("drills:scenario-detail", args=[self.scenario.public_id]))
        self.assertContains(response, self.edit_url())

    def test_it_shows_the_defaults_until_edited(self):
        self.login(self.alice)
        response = self.client.get(self.edit_url())
        self.assertContains(response, "いまは既定の表示です。")
        self.assertContains(response, 'value="統合認証"')
        self.assertContains(response, 'type="color"')

    def test_it_saves_texts_and_colours_for_the_wards_scenario(self):
        self.login(self.alice)
        response = self.client.post(self.edit_url(), VALUES)
        self.assertRedirects(response, self.edit_url())
        look = LandingPage.objects.get(scenario=self.scenario)
        self.assertEqual((look.organization, look.heading, look.header_colour), (self.ward_a, "ログイン", "#aa0000"))
        self.assertTrue(
            AuditEntry.objects.filter(action="learning.landing_page_saved", organization=self.ward_a).exists()
        )

    def test_it_refuses_a_colour_that_is_not_rrggbb(self):
        self.login(self.alice)
        response = self.client.post(self.edit_url(), {**VALUES, "header_colour": "red;}x"})
        self.assertContains(response, "色は #1d4e89 のように")
        self.assertFalse(LandingPage.objects.exists())

    def test_it_resets_to_the_defaults(self):
        self.login(self.alice)
        self.client.post(self.edit_url(), VALUES)
        response = self.client.post(self.edit_url(), {"reset": "1"})
        self.assertRedirects(response, self.edit_url())
        self.assertFalse(LandingPage.objects.exists())

    def test_the_library_is_read_only(self):
        self.login(self.alice)
        self.assertEqual(self.client.get(self.edit_url(self.library)).status_code, 404)
        self.assertEqual(self.client.post(self.edit_url(self.library), VALUES).status_code, 404)
        self.assertContains(self.client.get(self.preview_url(self.library)), "統合認証")

    def test_the_preview_shows_the_page_without_sending_or_tracking(self):
        self.login(self.bob)
        response = self.client.get(self.preview_url())
        self.assertContains(response, "プレビュー")
        self.assertContains(response, 'id="login-submit" disabled')
        self.assertNotContains(response, "confirm.js")

    def test_an_auditor_may_preview_but_not_edit(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(self.edit_url()).status_code, 403)
        self.assertEqual(self.client.post(self.edit_url(), VALUES).status_code, 403)
        self.assertEqual(self.client.get(self.preview_url()).status_code, 200)

    def test_charlie_gets_404_for_the_wards_scenario(self):
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.edit_url()).status_code, 404)
        self.assertEqual(self.client.post(self.edit_url(), VALUES).status_code, 404)
        self.assertEqual(self.client.post(self.edit_url(), {"reset": "1"}).status_code, 404)
        self.assertEqual(self.client.get(self.preview_url()).status_code, 404)
        self.assertFalse(LandingPage.objects.exists())


class LookStylesheetTests(BaseTestCase):
    def test_it_serves_the_colours_only_with_readable_text(self):
        look = LandingPage.objects.create(
            organization=self.ward_a,
            scenario=make_credential_scenario(self.ward_a),
            header_colour="#ffee00",
            button_colour="#102030",
        )
        response = self.client.get(reverse("learning:look", args=[look.public_id]))
        self.assertEqual(response["Content-Type"], "text/css; charset=utf-8")
        css = response.content.decode()
        self.assertIn(".portal-bar { background: #ffee00; color: #1f2328; }", css)
        self.assertIn(".login-button { background: #102030; border-color: #102030; color: #ffffff; }", css)
        self.assertNotIn("A区", css)

    def test_a_stored_colour_that_is_not_rrggbb_falls_back_to_the_default(self):
        look = LandingPage.objects.create(
            organization=self.ward_a, scenario=make_credential_scenario(self.ward_a), header_colour="};x{"
        )
        css = self.client.get(reverse("learning:look", args=[look.public_id])).content.decode()
        self.assertNotIn("};x{", css)
        self.assertIn(".portal-bar { background: #1d4e89;", css)

    def test_an_unknown_look_is_404(self):
        response = self.client.get(reverse("learning:look", args=["00000000-0000-0000-0000-000000000000"]))
        self.assertEqual(response.status_code, 404)


class CopyKeepsTheLookTests(BaseTestCase):
    def test_a_copied_scenario_keeps_its_landing_page_look(self):
        from mamori.drills.actions.scenarios import copy_scenario
        from mamori.drills.tests.makers import make_scenario

        source = make_scenario(self.ward_a, lure_type="credential_form")
        LandingPage.objects.create(
            organization=self.ward_a, scenario=source, heading="庁内ポータル", header_colour="#123456"
        )
        copy = copy_scenario(source, organization=self.ward_a, by=self.alice)
        self.assertEqual(copy.landing_page.heading, "庁内ポータル")
        self.assertEqual(copy.landing_page.header_colour, "#123456")
        self.assertNotEqual(copy.landing_page.public_id, source.landing_page.public_id)
