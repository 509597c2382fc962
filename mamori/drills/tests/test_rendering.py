import datetime

from django.test import SimpleTestCase, override_settings
from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.drills import links
from mamori.drills.models import Delivery, Scenario
from mamori.drills.rendering import (
    CONTEXT_VARIABLES,
    PREVIEW_TOKEN,
    TemplateRenderError,
    add_business_days,
    family_name,
    japanese_date,
    render_for_delivery,
    render_preview,
    validate_scenario_templates,
    validate_template,
    wareki,
)
from mamori.drills.tests.makers import make_campaign, make_scenario

TUESDAY = datetime.date(2026, 11, 24)
EVERY_VARIABLE = "\n".join(f"{name}={{{{ {name} }}}}" for name in CONTEXT_VARIABLES)


class JapaneseDateTests(SimpleTestCase):
    def test_it_writes_reiwa_dates(self):
        self.assertEqual(wareki(TUESDAY), "令和8年11月24日")
        self.assertEqual(wareki(datetime.date(2020, 1, 1)), "令和2年1月1日")

    def test_it_calls_the_first_year_gannen(self):
        self.assertEqual(wareki(datetime.date(2019, 5, 1)), "令和元年5月1日")
        self.assertEqual(wareki(datetime.date(2019, 12, 31)), "令和元年12月31日")

    def test_it_refuses_dates_before_reiwa(self):
        with self.assertRaises(ValueError):
            wareki(datetime.date(2019, 4, 30))

    def test_it_writes_the_weekday_in_japanese(self):
        self.assertEqual(japanese_date(TUESDAY, weekday=True), "2026年11月24日（火）")
        self.assertEqual(japanese_date(datetime.date(2026, 11, 29), weekday=True), "2026年11月29日（日）")

    def test_business_days_skip_weekends_and_holidays(self):
        # Friday 20 November → Monday 23 is 勤労感謝の日 → 24, 25, 26.
        self.assertEqual(add_business_days(datetime.date(2026, 11, 20), 3), datetime.date(2026, 11, 26))

    def test_business_days_skip_the_year_end_closure(self):
        # 28 December (Monday) counts; 29 December–3 January are closed.
        self.assertEqual(add_business_days(datetime.date(2026, 12, 25), 3), datetime.date(2027, 1, 5))

    def test_family_name_is_the_part_before_a_half_or_full_width_space(self):
        self.assertEqual(family_name("山田 太郎"), "山田")
        self.assertEqual(family_name("佐藤　花子"), "佐藤")
        self.assertEqual(family_name("小林"), "小林")


class ValidationTests(SimpleTestCase):
    def test_it_accepts_every_context_variable(self):
        self.assertEqual(validate_scenario_templates(EVERY_VARIABLE, EVERY_VARIABLE, EVERY_VARIABLE), [])

    def test_it_names_an_unknown_variable(self):
        errors = validate_scenario_templates("{{ recipient }}様", "本文")
        self.assertEqual(len(errors), 1)
        self.assertIn("件名", errors[0])
        self.assertIn("「recipient」という変数はありません", errors[0])

    def test_it_finds_unknown_variables_in_branches_not_taken(self):
        errors = validate_template("{% if false %}{{ secret_key }}{% endif %}")
        self.assertIn("「secret_key」という変数はありません", errors[0])

    def test_it_reports_every_problem_of_a_template_at_once(self):
        errors = validate_template("{{ link.__class__ }}\n{{ unknown }}\n{% include 'x' %}")
        self.assertEqual(len(errors), 3, errors)

    def test_it_reports_syntax_errors_with_the_line(self):
        errors = validate_template("一行目\n二行目 {{ person_name }\n")
        self.assertEqual(len(errors), 1)
        self.assertIn("2行目に書式の誤りがあります", errors[0])

    def test_it_refuses_sandbox_escapes(self):
        attempts = [
            "{{ ''.__class__ }}",
            "{{ cycler.__init__ }}",
            "{{ link.__class__.__mro__ }}",
            "{{ person_name['__class__'] }}",
            "{% if false %}{{ ''.__class__.__subclasses__() }}{% endif %}",
        ]
        for attempt in attempts:
            with self.subTest(attempt=attempt):
                errors = validate_template(attempt)
                self.assertTrue(any("安全のため" in error for error in errors), errors)

    def test_it_refuses_escapes_that_only_show_when_rendered(self):
        errors = validate_template("{{ person_name|attr('upper') }}")
        self.assertIn("フィルター「attr」は使えません", errors[0])
        errors = validate_template("{{ 'あ' * 100000 }}")
        self.assertIn("安全のため許可されていない操作", errors[0])

    def test_it_refuses_filters_that_would_unescape_or_inflate(self):
        self.assertIn("「safe」は使えません", validate_template("{{ person_name|safe }}", html=True)[0])
        self.assertIn("「center」は使えません", validate_template("{{ link|center(99999999) }}")[0])

    def test_it_refuses_loading_other_templates(self):
        self.assertIn("include", validate_template("{% include '/etc/passwd' %}")[0])

    def test_it_reports_runtime_errors_as_authoring_errors(self):
        self.assertIn("存在しない値", validate_template("{{ person_name.nickname }}")[0])


@override_settings(DRILL_BASE_URL="https://drill.example.jp")
class RenderingTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.person_a.position = "主事"
        cls.person_a.save()
        cls.scenario = make_scenario(
            cls.ward_a,
            subject="【{{ organization }}総務課】{{ today }}付け通達（{{ person_family_name }}様）",
            text_body=EVERY_VARIABLE,
            html_body="<html><body><p>{{ person_name }} 様</p><a href='{{ link }}'>確認</a></body></html>",
        )
        cls.campaign = make_campaign(cls.ward_a, scenarios=[cls.scenario])

    def make_delivery(self, scenario=None, person=None):
        return Delivery.objects.create(
            organization=self.ward_a,
            campaign=self.campaign,
            person=person or self.person_a,
            scenario=scenario or self.scenario,
            email=(person or self.person_a).email,
            scheduled_at=timezone.now(),
        )

    def test_it_renders_every_variable_for_the_recipient(self):
        delivery = self.make_delivery()
        mail = render_for_delivery(delivery, today=TUESDAY)
        token = delivery.token
        expected = {
            "person_name": "山田 太郎",
            "person_family_name": "山田",
            "department": "文書係",
            "department_path": "総務部 総務課 文書係",
            "position": "主事",
            "organization": "A区",
            "link": f"https://drill.example.jp/c/{token}",
            "qr_image": f"https://drill.example.jp/q/{token}",
            "qr_url": f"https://drill.example.jp/q/{token}",
            "attachment_link": f"https://drill.example.jp/a/{token}",
            "today": "2026年11月24日",
            "today_jp": "2026年11月24日（火）",
            "today_wareki": "令和8年11月24日",
            "deadline": "2026年11月27日（金）",
            "deadline_wareki": "令和8年11月27日",
        }
        self.assertEqual(expected.keys(), CONTEXT_VARIABLES.keys())
        for name, value in expected.items():
            self.assertIn(f"{name}={value}\n", mail.text + "\n")
        self.assertEqual(mail.subject, "【A区総務課】2026年11月24日付け通達（山田様）")
        self.assertEqual(mail.sender_name, "総務課 文書係")

    def test_the_html_escapes_recipient_data_and_the_text_keeps_it(self):
        person = self.person_a
        person.name = "<script>alert(1)</script> 太郎"
        delivery = self.make_delivery(person=person)
        mail = render_for_delivery(delivery, today=TUESDAY)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; 太郎 様", mail.html)
        self.assertNotIn("<script>", mail.html)
        self.assertIn("<script>alert(1)</script> 太郎", mail.text)

    def test_the_html_carries_the_hidden_trap_link_and_the_open_pixel(self):
        delivery = self.make_delivery()
        mail = render_for_delivery(delivery, today=TUESDAY)
        trap = links.trap_url(delivery.token)
        self.assertIn(f'<div hidden><a href="{trap}" tabindex="-1" aria-hidden="true"></a></div>', mail.html)
        self.assertIn(links.open_pixel_url(delivery.token), mail.html)
        self.assertTrue(mail.html.endswith("</body></html>"), "tracking markup goes inside the body")
        self.assertNotIn(trap, mail.text)
        self.assertNotIn("/x/", mail.text)

    def test_a_text_only_scenario_has_no_html_part(self):
        scenario = make_scenario(self.ward_a, "テキストのみ")
        mail = render_for_delivery(self.make_delivery(scenario=scenario), today=TUESDAY)
        self.assertEqual(mail.html, "")
        self.assertEqual(mail.inline_images, [])

    def test_a_qr_code_is_an_inline_png_in_the_html_and_a_url_in_the_text(self):
        scenario = make_scenario(
            self.ward_a,
            "QR",
            text_body="{{ qr_image }}",
            html_body='<p><img src="{{ qr_image }}" alt="QRコード"></p>',
            lure_type=Scenario.LureType.QR_CODE,
        )
        delivery = self.make_delivery(scenario=scenario)
        mail = render_for_delivery(delivery, today=TUESDAY)
        content_id, png = mail.inline_images[0]
        self.assertIn(f'src="cid:{content_id}"', mail.html)
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertEqual(mail.text, links.qr_url(delivery.token))

    def test_the_subject_is_one_line(self):
        scenario = make_scenario(self.ward_a, "改行", subject="一行目\n{{ person_name }}\r\n")
        mail = render_for_delivery(self.make_delivery(scenario=scenario), today=TUESDAY)
        self.assertEqual(mail.subject, "一行目 山田 太郎")

    def test_an_unvalidated_unknown_variable_fails_the_render_clearly(self):
        scenario = make_scenario(self.ward_a, "壊れた", text_body="{{ unknown_name }}")
        with self.assertRaisesRegex(TemplateRenderError, "本文（テキスト）"):
            render_for_delivery(self.make_delivery(scenario=scenario), today=TUESDAY)

    def test_an_edited_scenario_is_recompiled(self):
        scenario = make_scenario(self.ward_a, "編集", text_body="旧")
        delivery = self.make_delivery(scenario=scenario)
        self.assertEqual(render_for_delivery(delivery, today=TUESDAY).text, "旧")
        scenario.text_body = "新 {{ person_name }}"
        scenario.save()
        self.assertEqual(render_for_delivery(delivery, today=TUESDAY).text, "新 山田 太郎")

    def test_a_pdf_attachment_scenario_attaches_a_document_per_recipient(self):
        scenario = make_scenario(
            self.ward_a,
            "添付",
            lure_type=Scenario.LureType.ATTACHMENT,
            attachment_mode=Scenario.AttachmentMode.PDF,
            attachment_name="請求書.pdf",
            attachment_body="{{ organization }} 御中\n\n請求書を送付いたします。",
        )
        delivery = self.make_delivery(scenario=scenario)
        [(filename, content, mimetype)] = render_for_delivery(delivery, today=TUESDAY).attachments
        self.assertEqual((filename, mimetype), ("請求書.pdf", "application/pdf"))
        self.assertIn(links.attachment_url(delivery.token).encode(), content)

    def test_a_link_attachment_scenario_attaches_nothing(self):
        scenario = make_scenario(self.ward_a, "リンク添付", lure_type=Scenario.LureType.ATTACHMENT)
        self.assertEqual(render_for_delivery(self.make_delivery(scenario=scenario), today=TUESDAY).attachments, [])

    def test_the_preview_uses_a_fake_token_a_data_uri_and_no_open_pixel(self):
        scenario = make_scenario(self.ward_a, "QRプレビュー", html_body='<img src="{{ qr_image }}" alt="">')
        mail = render_preview(scenario, self.person_a, self.ward_a, today=TUESDAY)
        self.assertIn('src="data:image/png;base64,', mail.html)
        self.assertIn(links.trap_url(PREVIEW_TOKEN), mail.html)
        self.assertNotIn("/o/", mail.html)
        self.assertIn(PREVIEW_TOKEN, mail.text)
