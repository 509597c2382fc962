"""The teachable moment: this mail with its cues marked, the organization's rules, the report link."""

import datetime

from django.test import Client
from django.urls import reverse

from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import Campaign, Event
from mamori.drills.tests.makers import make_scenario
from mamori.learning.models import Assignment, Completion, Module
from mamori.learning.tests.makers import make_credential_scenario, make_delivery


class MomentPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.scenario = make_credential_scenario(cls.ward_a)
        cls.delivery = make_delivery(cls.person_a, scenario=cls.scenario)

    def moment_url(self, token=None):
        return reverse("learning:moment", args=[token or self.delivery.token])

    def test_it_says_calmly_that_this_was_a_drill(self):
        response = self.client.get(self.moment_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "訓練であることのお知らせ")
        self.assertContains(response, "これは、A区が実施している標的型メール訓練でした。")
        self.assertContains(response, "ありがとうございます")
        self.assertContains(response, "入力された文字は、どこにも保存していません")
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_it_shows_this_mail_rendered_for_this_recipient(self):
        response = self.client.get(self.moment_url())
        self.assertContains(response, "山田 太郎 様")
        self.assertContains(response, "【重要】パスワードがまもなく失効します")

    def test_it_marks_this_mails_cues_on_the_mail_with_numbered_notes(self):
        response = self.client.get(self.moment_url())
        self.assertContains(
            response,
            '<mark class="cue" id="cue-mark-1">no-reply@portal-account.example.jp</mark>'
            '<sup class="cue-number"><a href="#cue-1">1</a></sup>',
        )
        # The excerpt wraps across a line of the body and is marked all the same.
        self.assertContains(response, '<mark class="cue" id="cue-mark-2">現在のパスワードと新しい\nパスワード</mark>')
        self.assertContains(response, '<li id="cue-1"><strong>差出人のドメイン</strong>')
        self.assertContains(response, "パスワードはメールのリンク先で入力しません。")

    def test_it_escapes_the_mail_and_the_cues(self):
        scenario = make_scenario(
            self.ward_a,
            "エスケープ",
            text_body="<b>太字</b> {{ link }}\n",
            cues=[{"label": "<i>ラベル</i>", "detail": "<script>x</script>", "excerpt": "<b>太字</b>"}],
        )
        delivery = make_delivery(self.person_a, scenario=scenario, round_number=2)
        body = self.client.get(self.moment_url(delivery.token)).content.decode()
        self.assertIn('<mark class="cue" id="cue-mark-1">&lt;b&gt;太字&lt;/b&gt;</mark>', body)
        self.assertIn("&lt;i&gt;ラベル&lt;/i&gt;", body)
        self.assertIn("&lt;script&gt;x&lt;/script&gt;", body)
        self.assertNotIn("<b>太字", body)

    def test_it_shows_the_default_first_response_rules_from_the_field_guide(self):
        response = self.client.get(self.moment_url())
        self.assertContains(response, "何よりも優先して、定められた窓口へ正直に報告する。")
        self.assertContains(response, "パソコンを再起動・シャットダウンしない")
        self.assertContains(response, "自分でウイルス対策ソフトを実行しない")
        self.assertContains(response, "指示があるまで、LANケーブルを抜いたり")
        self.assertContains(response, '<strong id="report-contact">上司または情報システム部門</strong>', html=True)

    def test_it_shows_the_organizations_own_rules_and_contact_when_set(self):
        self.ward_a.first_response_rules = "すぐにLANケーブルを抜く。\n\n情報政策課へ電話する。\n"
        self.ward_a.report_contact = "情報政策課 セキュリティ担当（内線 1234）"
        self.ward_a.save()
        response = self.client.get(self.moment_url())
        self.assertContains(response, "<li>すぐにLANケーブルを抜く。</li>", html=True)
        self.assertContains(response, "<li>情報政策課へ電話する。</li>", html=True)
        self.assertNotContains(response, "自分でウイルス対策ソフトを実行しない")
        self.assertContains(response, "情報政策課 セキュリティ担当（内線 1234）")
        self.assertContains(response, "すぐに情報政策課 セキュリティ担当（内線 1234）へ、正直に報告する。")

    def test_it_links_to_the_report_page_with_the_token(self):
        response = self.client.get(self.moment_url())
        self.assertContains(
            response, f'<a class="report-button" id="report-now" href="/report/?token={self.delivery.token}">'
        )

    def test_it_includes_the_confirmation_script_with_a_nonce(self):
        response = self.client.get(self.moment_url())
        self.assertContains(
            response, f'src="/static/drills/confirm.js" data-beacon="/cf/{self.delivery.token}" nonce="'
        )

    def test_it_loads_nothing_from_outside_and_has_no_inline_style(self):
        body = self.client.get(self.moment_url()).content.decode()
        self.assertNotIn('src="http', body)
        self.assertNotIn('href="http', body)
        self.assertNotIn("style=", body)
        self.assertNotIn("<style", body)

    def test_it_records_no_drill_event(self):
        self.client.get(self.moment_url())
        self.assertFalse(Event.objects.exists())

    def test_the_first_visit_assigns_the_moment_module_of_the_scenario(self):
        self.client.get(self.moment_url())
        assignment = Assignment.objects.get()
        self.assertEqual(assignment.delivery, self.delivery)
        self.assertEqual(assignment.person, self.person_a)
        self.assertEqual(assignment.organization, self.ward_a)
        self.assertEqual(assignment.module.scenario, self.scenario)
        self.assertEqual(assignment.module.kind, Module.Kind.TEACHABLE_MOMENT)
        self.assertEqual(assignment.module.estimated_minutes, 1)
        completion = Completion.objects.get()
        self.assertEqual((completion.visits, completion.seconds_spent, completion.completed_at), (1, 0, None))

    def test_later_visits_reuse_the_assignment(self):
        other = make_delivery(self.person_a, scenario=self.scenario, round_number=2)
        self.client.get(self.moment_url())
        self.client.get(self.moment_url())
        self.client.get(self.moment_url(other.token))
        self.assertEqual(Module.objects.count(), 1)
        self.assertEqual(Assignment.objects.count(), 2)
        self.assertEqual(Completion.objects.get(assignment__delivery=self.delivery).visits, 2)

    def test_a_head_request_assigns_nothing(self):
        response = self.client.head(self.moment_url())
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Assignment.objects.exists())

    def test_it_answers_unknown_and_closed_tokens_with_the_neutral_page(self):
        closed = make_delivery(self.person_a, scenario=self.scenario, state=Campaign.State.CLOSED, round_number=3)
        neutral = Client().get(reverse("tracking:click", args=["B" * 22])).content
        for token in ("B" * 22, closed.token, "nonsense"):
            with self.subTest(token=token):
                response = self.client.get(self.moment_url(token))
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.content, neutral)
        self.assertFalse(Assignment.objects.exists())

    def test_it_shows_the_dates_of_the_day_the_mail_was_sent(self):
        scenario = make_scenario(self.ward_a, "日付", text_body="{{ today }}付けの通達です。{{ link }}")
        sent_at = datetime.datetime(2026, 4, 1, 9, 30, tzinfo=datetime.UTC)
        delivery = make_delivery(self.person_a, scenario=scenario, round_number=5, sent_at=sent_at)
        self.assertContains(self.client.get(self.moment_url(delivery.token)), "2026年4月1日付けの通達です。")

    def test_a_mail_that_cannot_render_leaves_the_rest_of_the_page(self):
        scenario = make_scenario(self.ward_a, "壊れた本文", text_body="{{ no_such_variable }}")
        delivery = make_delivery(self.person_a, scenario=scenario, round_number=6)
        response = self.client.get(self.moment_url(delivery.token))
        self.assertContains(response, "このメールの内容を表示できませんでした。")
        self.assertContains(response, 'id="quiz-form"')

    def test_it_works_without_cues(self):
        scenario = make_scenario(self.ward_a, "手がかりなし", cues=[])
        delivery = make_delivery(self.person_a, scenario=scenario, round_number=4)
        response = self.client.get(self.moment_url(delivery.token))
        self.assertContains(response, "確認クイズ（3問）")
        self.assertNotContains(response, "<mark")
