from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.drills.models import Scenario
from mamori.drills.tests.makers import make_scenario


def url(name: str, scenario=None) -> str:
    return reverse(f"drills:{name}", args=[scenario.public_id] if scenario else [])


def form_data(**overrides) -> dict:
    """A valid scenario form with two cues (and the formset's bookkeeping)."""
    data = {
        "name": "区の通達訓練",
        "subject": "【総務課】{{ today }}付け通達の件（要返信）",
        "sender_name": "総務課 文書係",
        "sender_address": "bunsho@soumu-notice.example.jp",
        "text_body": "{{ person_name }} 様\n\n至急ご回答ください。\n{{ link }}\n",
        "html_body": "",
        "lure_type": "link",
        "threat_tags": ["notice", "urgent"],
        "premise_alignment": "high",
        "cue_count": "",
        "attachment_mode": "link",
        "attachment_name": "",
        "attachment_body": "",
        "cues-TOTAL_FORMS": "3",
        "cues-INITIAL_FORMS": "0",
        "cues-MIN_NUM_FORMS": "0",
        "cues-MAX_NUM_FORMS": "12",
        "cues-0-label": "差出人のドメイン",
        "cues-0-detail": "区のドメインではありません。",
        "cues-0-excerpt": "soumu-notice.example.jp",
        "cues-1-label": "急がせる",
        "cues-1-detail": "至急と書いて考える時間を奪います。",
        "cues-1-excerpt": "至急ご回答ください",
        "cues-2-label": "",
        "cues-2-detail": "",
        "cues-2-excerpt": "",
    }
    data.update(overrides)
    return data


class ScenarioViewTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.own = make_scenario(cls.ward_a, "A区の独自シナリオ")
        cls.other_ward = make_scenario(cls.ward_b, "B区の独自シナリオ")
        cls.library = Scenario.objects.get(library_key="soumu-tsutatsu")
        cls.csirt = make_user("dana", organization=cls.ward_a, role=Membership.Role.CSIRT)


class ScenarioListTests(ScenarioViewTestCase):
    def test_it_lists_the_library_and_the_wards_own_scenarios(self):
        self.login(self.alice)
        response = self.client.get(url("scenarios"))
        self.assertContains(response, "A区の独自シナリオ")
        self.assertContains(response, "総務課の通達（要返信）")
        self.assertNotContains(response, "B区の独自シナリオ")

    def test_charlie_sees_the_library_but_nothing_of_ward_a(self):
        self.login(self.charlie)
        response = self.client.get(url("scenarios"))
        self.assertContains(response, "総務課の通達（要返信）")
        self.assertContains(response, "B区の独自シナリオ")
        self.assertNotContains(response, "A区の独自シナリオ")

    def test_it_filters_by_lure_tag_and_difficulty(self):
        self.login(self.alice)
        response = self.client.get(url("scenarios"), {"lure_type": "qr_code"})
        self.assertContains(response, "QRコードでの多要素認証更新（クイッシング）")
        self.assertNotContains(response, "宅配の不在通知")
        response = self.client.get(url("scenarios"), {"difficulty": "least"})
        self.assertContains(response, "宅配の不在通知")
        self.assertNotContains(response, "生成AIによる自然な日本語の業者連絡")
        response = self.client.get(url("scenarios"), {"tag": "reply_chain"})
        self.assertContains(response, "返信を装う（Emotet型の返信チェーン）")
        self.assertNotContains(response, "人事異動の内示")

    def test_it_shows_difficulty_as_hard_middle_easy(self):
        self.login(self.alice)
        response = self.client.get(url("scenarios"))
        for label in ("難", "中", "易"):
            self.assertContains(response, f">{label}</span>")

    def test_an_htmx_request_gets_only_the_tables(self):
        self.login(self.alice)
        response = self.client.get(url("scenarios"), {"tag": "tax"}, headers={"HX-Request": "true"})
        self.assertNotContains(response, "<html")
        self.assertContains(response, "住民税の算定誤りのお詫びと訂正")

    def test_the_query_count_does_not_grow_with_scenarios(self):
        self.login(self.alice)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url("scenarios"))
        for number in range(5):
            make_scenario(self.ward_a, f"追加シナリオ{number}")
        with CaptureQueriesContext(connection) as many:
            self.client.get(url("scenarios"))
        self.assertEqual(len(few), len(many))

    def test_the_page_has_no_inline_script_or_style(self):
        self.login(self.alice)
        response = self.client.get(url("scenarios"))
        self.assertNotContains(response, "<script>")
        self.assertNotContains(response, " style=")


class ScenarioDetailTests(ScenarioViewTestCase):
    def test_it_shows_the_mail_and_its_cues(self):
        self.login(self.bob)
        response = self.client.get(url("scenario-detail", self.library))
        self.assertContains(response, "bunsho@soumu-notice.example.jp")
        self.assertContains(response, "庁内システムなのに外部のリンク")
        self.assertContains(response, "ライブラリ（読み取り専用）")

    def test_a_library_scenario_offers_copy_but_not_edit(self):
        self.login(self.alice)
        response = self.client.get(url("scenario-detail", self.library))
        self.assertContains(response, url("scenario-copy", self.library))
        self.assertNotContains(response, url("scenario-edit", self.library))

    def test_an_auditor_sees_no_management_buttons(self):
        self.login(self.bob)
        response = self.client.get(url("scenario-detail", self.own))
        self.assertNotContains(response, url("scenario-edit", self.own))
        self.assertNotContains(response, url("scenario-copy", self.own))

    def test_charlie_gets_404_for_ward_a_scenario(self):
        self.login(self.charlie)
        for name in ("scenario-detail", "scenario-edit", "scenario-preview"):
            with self.subTest(name):
                self.assertEqual(self.client.get(url(name, self.own)).status_code, 404)


class ScenarioCopyTests(ScenarioViewTestCase):
    def test_alice_copies_a_library_scenario_into_her_ward(self):
        self.login(self.alice)
        response = self.client.post(url("scenario-copy", self.library))
        copy = Scenario.objects.get(organization=self.ward_a, copied_from=self.library)
        self.assertRedirects(response, url("scenario-edit", copy))
        self.assertEqual(
            (copy.name, copy.text_body, copy.cues), (self.library.name, self.library.text_body, self.library.cues)
        )
        self.assertEqual(copy.library_key, "")
        entry = AuditEntry.objects.get(action="scenario.copied")
        self.assertEqual((entry.organization, entry.actor), (self.ward_a, self.alice))

    def test_copying_an_own_scenario_names_the_copy(self):
        self.login(self.alice)
        self.client.post(url("scenario-copy", self.own))
        self.assertTrue(Scenario.objects.filter(organization=self.ward_a, name="A区の独自シナリオ（コピー）").exists())

    def test_charlie_cannot_copy_ward_a_scenario(self):
        self.login(self.charlie)
        self.assertEqual(self.client.post(url("scenario-copy", self.own)).status_code, 404)
        self.assertFalse(Scenario.objects.filter(copied_from=self.own).exists())

    def test_bob_cannot_copy(self):
        self.login(self.bob)
        self.assertEqual(self.client.post(url("scenario-copy", self.library)).status_code, 403)

    def test_copy_needs_post(self):
        self.login(self.alice)
        self.assertEqual(self.client.get(url("scenario-copy", self.library)).status_code, 405)


class ScenarioEditTests(ScenarioViewTestCase):
    def test_alice_creates_a_scenario_with_cues(self):
        self.login(self.alice)
        response = self.client.post(url("scenario-create"), form_data())
        scenario = Scenario.objects.get(organization=self.ward_a, name="区の通達訓練")
        self.assertRedirects(response, url("scenario-detail", scenario))
        self.assertEqual([cue["label"] for cue in scenario.cues], ["差出人のドメイン", "急がせる"])
        self.assertEqual(scenario.threat_tags, ["notice", "urgent"])
        self.assertEqual(scenario.created_by, self.alice)
        self.assertTrue(AuditEntry.objects.filter(action="scenario.created", organization=self.ward_a).exists())

    def test_alice_edits_her_wards_scenario(self):
        self.login(self.alice)
        before = self.own.updated_at
        response = self.client.post(url("scenario-edit", self.own), form_data(name="改訂版"))
        self.assertRedirects(response, url("scenario-detail", self.own))
        self.own.refresh_from_db()
        self.assertEqual(self.own.name, "改訂版")
        self.assertGreater(self.own.updated_at, before)
        entry = AuditEntry.objects.get(action="scenario.updated")
        self.assertIn("name", entry.details["changed"])

    def test_template_errors_are_shown_next_to_the_field_and_nothing_is_saved(self):
        self.login(self.alice)
        response = self.client.post(
            url("scenario-edit", self.own),
            form_data(subject="{{ recipient }}様", text_body="{{ ''.__class__.__mro__ }}\n{{ link }}"),
        )
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertIn("「recipient」という変数はありません", form.errors["subject"][0])
        self.assertIn("「_」で始まる名前には安全のためアクセスできません", form.errors["text_body"][0])
        self.own.refresh_from_db()
        self.assertEqual(self.own.name, "A区の独自シナリオ")
        self.assertFalse(AuditEntry.objects.filter(action="scenario.updated").exists())

    def test_a_syntax_error_names_its_line(self):
        self.login(self.alice)
        response = self.client.post(url("scenario-create"), form_data(text_body="一行目\n{{ link }\n"))
        self.assertIn("2行目に書式の誤りがあります", response.context["form"].errors["text_body"][0])

    def test_a_link_lure_needs_the_link_in_the_text_body(self):
        self.login(self.alice)
        response = self.client.post(url("scenario-create"), form_data(text_body="至急ご回答ください。"))
        self.assertIn("{{ link }}", response.context["form"].errors["text_body"][0])

    def test_an_executable_attachment_name_is_refused(self):
        self.login(self.alice)
        data = form_data(
            lure_type="attachment", attachment_name="請求書.exe", text_body="至急ご回答ください。{{ attachment_link }}"
        )
        response = self.client.post(url("scenario-create"), data)
        self.assertIn("実行ファイルは添付できません", response.context["form"].errors["attachment_name"][0])
        self.assertFalse(Scenario.objects.filter(name="区の通達訓練").exists())

    def test_an_excerpt_must_be_found_in_the_mail(self):
        self.login(self.alice)
        response = self.client.post(url("scenario-create"), form_data(**{"cues-1-excerpt": "メールにない文言"}))
        cue_form = response.context["cues"].forms[1]
        self.assertIn("メールの中に見つかりません", cue_form.errors["excerpt"][0])

    def test_library_scenarios_cannot_be_edited(self):
        self.login(self.alice)
        self.assertEqual(self.client.get(url("scenario-edit", self.library)).status_code, 404)
        self.assertEqual(self.client.post(url("scenario-edit", self.library), form_data()).status_code, 404)

    def test_bob_cannot_create_or_edit(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(url("scenario-create")).status_code, 403)
        self.assertEqual(self.client.post(url("scenario-edit", self.own), form_data(name="改訂版")).status_code, 403)
        self.own.refresh_from_db()
        self.assertEqual(self.own.name, "A区の独自シナリオ")

    def test_csirt_can_view_but_not_edit(self):
        self.login(self.csirt)
        self.assertEqual(self.client.get(url("scenario-detail", self.own)).status_code, 200)
        self.assertEqual(self.client.get(url("scenario-edit", self.own)).status_code, 403)

    def test_charlie_cannot_edit_ward_a_scenario(self):
        self.login(self.charlie)
        self.assertEqual(self.client.post(url("scenario-edit", self.own), form_data(name="乗っ取り")).status_code, 404)
        self.own.refresh_from_db()
        self.assertEqual(self.own.name, "A区の独自シナリオ")

    def test_the_form_page_lists_the_variables(self):
        self.login(self.alice)
        response = self.client.get(url("scenario-create"))
        self.assertContains(response, "{{ today_wareki }}")
        self.assertNotContains(response, " style=")


class ScenarioArchiveTests(ScenarioViewTestCase):
    def test_alice_archives_and_restores_a_scenario(self):
        self.login(self.alice)
        self.client.post(url("scenario-archive", self.own))
        self.own.refresh_from_db()
        self.assertTrue(self.own.archived)
        self.assertNotIn(self.own, self.client.get(url("scenarios")).context["own"])
        self.assertIn(self.own, self.client.get(url("scenarios"), {"archived": "1"}).context["own"])
        self.client.post(url("scenario-restore", self.own))
        self.own.refresh_from_db()
        self.assertFalse(self.own.archived)
        actions = list(AuditEntry.objects.filter(organization=self.ward_a).values_list("action", flat=True))
        self.assertIn("scenario.archived", actions)
        self.assertIn("scenario.restored", actions)

    def test_library_scenarios_cannot_be_archived(self):
        self.login(self.alice)
        self.assertEqual(self.client.post(url("scenario-archive", self.library)).status_code, 404)

    def test_charlie_and_bob_cannot_archive_ward_a_scenario(self):
        self.login(self.charlie)
        self.assertEqual(self.client.post(url("scenario-archive", self.own)).status_code, 404)
        self.login(self.bob)
        self.assertEqual(self.client.post(url("scenario-archive", self.own)).status_code, 403)
        self.own.refresh_from_db()
        self.assertFalse(self.own.archived)


class ScenarioPreviewTests(ScenarioViewTestCase):
    def test_it_previews_as_a_chosen_person(self):
        self.login(self.bob)
        response = self.client.get(url("scenario-preview", self.library), {"person": self.person_a.public_id})
        self.assertContains(response, "総務部 › 総務課 › 文書係 山田 太郎 さんが受け取るメールです")
        self.assertContains(response, "文書係\n山田 太郎 様")
        self.assertContains(response, "【総務課】")

    def test_it_uses_a_sample_person_until_one_is_chosen(self):
        self.login(self.alice)
        response = self.client.get(url("scenario-preview", self.library))
        self.assertContains(response, "佐藤 花子 様")

    def test_it_finds_people_by_search(self):
        self.login(self.alice)
        response = self.client.get(url("scenario-preview", self.own), {"q": "やまだ"})
        self.assertContains(response, f"?person={self.person_a.public_id}")
        response = self.client.get(
            url("scenario-preview", self.own), {"q": "山田", "results": "1"}, headers={"HX-Request": "true"}
        )
        self.assertNotContains(response, "<html")
        self.assertContains(response, "山田 太郎")

    def test_the_html_is_shown_in_a_sandboxed_frame_and_escaped(self):
        self.login(self.alice)
        scenario = make_scenario(
            self.ward_a, "HTML", html_body="<p>{{ person_name }} 様</p><a href='{{ link }}'>確認</a>"
        )
        self.person_a.name = "<script>alert(1)</script> 太郎"
        self.person_a.save()
        response = self.client.get(url("scenario-preview", scenario), {"person": self.person_a.public_id})
        self.assertContains(response, '<iframe class="scenario-html" sandbox=""')
        self.assertContains(response, 'srcdoc="&lt;p&gt;&amp;lt;script&amp;gt;alert(1)')
        self.assertNotContains(response, "<script>alert")
        self.assertNotContains(response, "/o/")

    def test_charlie_cannot_preview_as_a_ward_a_person(self):
        self.login(self.charlie)
        response = self.client.get(url("scenario-preview", self.library), {"person": self.person_a.public_id})
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "山田 太郎")
        response = self.client.get(url("scenario-preview", self.library), {"q": "山田"})
        self.assertNotContains(response, "山田 太郎")

    def test_a_broken_template_is_reported_not_raised(self):
        self.login(self.alice)
        scenario = make_scenario(self.ward_a, "壊れた", text_body="{{ unknown }}")
        response = self.client.get(url("scenario-preview", scenario))
        self.assertContains(response, "本文（テキスト） を表示できません")
