"""A CSIRT member in a real browser: opens a case from a triage item, moves it through its states, records
what happened with an approximate time, and closes it with a resolution — with no CSP violation."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from mamori.browser_tests.base import BrowserTestCase
from mamori.browser_tests.test_drill_events_results import save_full_page, signed_in_cookie
from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.incidents.models import Case, TimePrecision
from mamori.reporting.models import Report, ReportCluster

STEPS = [
    ("#to-triage", "トリアージ"),
    ("#to-in_progress", "対応中"),
    ("#to-contained", "封じ込め済み"),
    ("#to-eradicated", "根絶済み"),
    ("#to-recovered", "復旧済み"),
]


class IncidentPagesTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        self.csirt = make_user("csirt", organization=ward, role=Membership.Role.CSIRT)
        tax = make_department(ward, "区民部/税務課")
        reporter = make_person(ward, "山田 太郎", email="yamada@city-a.lg.jp", department=tax)
        received = timezone.now() - datetime.timedelta(hours=2)
        self.cluster = ReportCluster.objects.create(
            organization=ward, subject="【重要】請求書の送付について", first_reported_at=received, report_count=1
        )
        Report.objects.create(
            organization=ward,
            channel=Report.Channel.MAILBOX,
            state=Report.State.TRIAGE,
            cluster=self.cluster,
            subject="【重要】請求書の送付について",
            received_at=received,
            reporter=reporter,
            reporter_email=reporter.email,
        )

    def press(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def test_a_case_is_opened_from_triage_handled_and_closed(self):
        self.context.add_cookies([signed_in_cookie(self.csirt, self.live_server_url)])
        self.page.goto(self.url(f"/reporting/clusters/{self.cluster.public_id}/"))
        self.press("#open-case")
        expect(self.page.locator("h1")).to_have_text("事案の登録")
        expect(self.page.locator("#id_title")).to_have_value("【重要】請求書の送付について")
        self.page.select_option("#id_severity", "high")
        self.press("#case-submit")

        expect(self.page.locator(".messages")).to_contain_text("を登録しました")
        expect(self.page.locator("#case-state")).to_have_text("新規")
        expect(self.page.locator("#tasks")).to_contain_text("メールを削除せず保全する")
        expect(self.page.locator("#case-facts")).to_contain_text("山田 太郎")

        # What happened, as precisely as it is known: "around 14 o'clock".
        self.page.click("#timeline summary")
        self.page.select_option("#timeline-kind", "observation")
        self.page.check("input[name=at_precision][value=hour]")
        earlier = timezone.localtime() - datetime.timedelta(hours=1)
        self.page.fill("#timeline-at", earlier.strftime("%Y-%m-%dT%H:%M"))
        self.page.fill("#timeline-text", "受信者が添付ファイルを開いたと申告")
        self.press("#timeline-form button[type=submit]")
        expect(self.page.locator("#timeline-entries")).to_contain_text(f"{earlier.hour}時台")

        for selector, state in STEPS:
            self.press(selector)
            expect(self.page.locator("#case-state")).to_have_text(state)

        # Closing without a resolution is refused, and the note typed stays.
        self.page.fill("#id_note", "端末を初期化し、同報者へ注意喚起した")
        self.press("#to-closed")
        expect(self.page.locator("#closing-form")).to_contain_text("完了の理由を選んでください")
        expect(self.page.locator("#id_note")).to_have_value("端末を初期化し、同報者へ注意喚起した")
        self.page.select_option("#id_resolution", "resolved")
        self.press("#to-closed")

        expect(self.page.locator("#case-state")).to_have_text("完了")
        expect(self.page.locator("#resolution")).to_contain_text("対応完了")
        save_full_page(self.page, "incident-closed")
        case = Case.objects.get()
        self.assertEqual(case.state, Case.State.CLOSED)
        self.assertEqual(case.timeline.get().at_precision, TimePrecision.HOUR)
        self.assertEqual(
            list(case.transitions.values_list("to_state", flat=True)),
            ["new", "triage", "in_progress", "contained", "eradicated", "recovered", "closed"],
        )

        self.page.goto(self.url("/incidents/?status=closed"))
        expect(self.page.locator("#case-table")).to_contain_text("【重要】請求書の送付について")
        self.assert_no_csp_violations()
        # The refused close answers 400 (the form shown again with its reason); nothing else may fail.
        unexpected = [error for error in self.console_errors if "status of 400" not in error]
        self.assertEqual(unexpected, [])
