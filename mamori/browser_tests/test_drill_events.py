"""Every drill event end to end: mail sent over SMTP, its links followed in Chromium, the hits classified.

Each test sends real drill mail from the library's scenarios to a loopback SMTP server, reads the links
out of the received message, and follows them in a browser as a person would (a desktop or phone browser's
user agent: headless Chromium names itself ``HeadlessChrome``, which the classifier rightly takes for a
program). The mail is taken to be read a few minutes after delivery, as people do; within seconds of it,
a hit is a gateway's scan.
"""

import contextlib
import datetime
import io
import json
import logging
import re
import secrets
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from mamori.browser_tests.base import BrowserTestCase
from mamori.browser_tests.test_drill_events_results import DESKTOP, PHONE, save_full_page, signed_in_cookie
from mamori.core.models import Membership, Organization
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.core.worker import drain
from mamori.drills import links
from mamori.drills.models import Campaign, Delivery, Event, Scenario
from mamori.drills.tests.makers import make_campaign, make_sending_profile
from mamori.drills.tests.smtp_server import SMTPTestServer
from mamori.drills.tracking.classifier import classify_due_events
from mamori.learning import quiz
from mamori.learning.models import Completion

Kind = Event.Kind
DESKTOP_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
PHONE_BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
# How long after delivery the recipient reads the mail: well past the classifier's latency signal.
READ_AFTER = datetime.timedelta(minutes=5)
MOMENT_HEADING = "訓練であることのお知らせ"
TOKEN_PATTERN = r"[A-Za-z0-9_-]{22}"


class DrillMail:
    """A drill mail as the SMTP server received it, with the delivery it was sent for."""

    def __init__(self, delivery: Delivery, message):
        self.delivery = delivery
        self.message = message
        self.text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",))
        self.html = html.get_content() if html is not None else ""

    def link(self, base_url: str, prefix: str) -> str:
        """The mail's ``/c/``, ``/q/`` or ``/a/`` link, as printed in the text part."""
        match = re.search(re.escape(base_url) + f"/{prefix}/{TOKEN_PATTERN}", self.text)
        assert match, f"no /{prefix}/ link in the mail:\n{self.text}"
        return match.group(0)


class DrillEventTestCase(BrowserTestCase):
    def setUp(self):
        super().setUp()
        drill_host = override_settings(DRILL_BASE_URL=self.live_server_url)
        drill_host.enable()
        self.addCleanup(drill_host.disable)
        self.smtp = SMTPTestServer()
        self.smtp.__enter__()
        self.addCleanup(self.smtp.__exit__, None, None, None)
        self.ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        Organization.objects.filter(pk=self.ward.pk).update(report_contact="情報政策課（内線 1234）")
        self.alice = make_user("alice", organization=self.ward, role=Membership.Role.SECURITY_ADMIN)
        self.department = make_department(self.ward, "総務部/総務課")
        self.profile = make_sending_profile(self.ward, port=self.smtp.port)
        self.rounds = iter(range(1, 100))
        self.use_browser(DESKTOP_BROWSER, DESKTOP)

    def use_browser(self, user_agent: str, viewport: dict) -> None:
        """A fresh browser context that presents itself as a person's desktop or phone browser."""
        self.context = self.browser.new_context(
            locale="ja-JP", timezone_id="Asia/Tokyo", user_agent=user_agent, viewport=viewport
        )
        self.context.set_default_timeout(10_000)
        self.addCleanup(self.context.close)
        self.page = self.context.new_page()
        self.page.on("console", self._collect_console_message)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def send(self, library_key: str, *, recipients: int = 1) -> list[DrillMail]:
        """Send the library scenario to ``recipients`` new staff through the worker; their mails, read later."""
        scenario = Scenario.objects.get(library_key=library_key, organization__isnull=True)
        campaign = make_campaign(
            self.ward,
            scenarios=[scenario],
            profile=self.profile,
            round_number=next(self.rounds),
            state=Campaign.State.SCHEDULED,
        )
        due = timezone.now() - datetime.timedelta(minutes=1)
        for number in range(recipients):
            person = make_person(
                self.ward,
                f"職員 {campaign.round_number}-{number}",
                email=f"staff{campaign.round_number}-{number}@city-a.lg.jp",
                department=self.department,
            )
            Delivery.objects.create(
                organization=self.ward,
                campaign=campaign,
                person=person,
                scenario=scenario,
                email=person.email,
                scheduled_at=due,
            )
        drain()
        deliveries = campaign.deliveries.order_by("pk")
        self.assertEqual({delivery.state for delivery in deliveries}, {Delivery.State.SENT})
        deliveries.update(sent_at=F("sent_at") - READ_AFTER)
        received = {mail.rcpt_tos[0]: mail.message for mail in self.smtp.received}
        return [DrillMail(delivery, received[delivery.email]) for delivery in deliveries.order_by("pk")]

    def follow(self, url: str) -> None:
        """Open ``url`` as the recipient, waiting for the page's confirmation beacon to be recorded."""
        with self.page.expect_response(lambda response: "/cf/" in response.url) as beacon:
            self.page.goto(url)
        self.assertEqual(beacon.value.status, 204)

    def classify(self) -> None:
        """Run the classifier as the worker would once the hits are old enough to judge."""
        later = timezone.now() + datetime.timedelta(seconds=settings.TRACKING_CLASSIFY_AFTER_SECONDS + 1)
        while classify_due_events(now=later):
            pass

    def events(self, mail: DrillMail, kind: str | None = None):
        events = Event.objects.filter(delivery=mail.delivery).order_by("at", "pk")
        return events.filter(kind=kind) if kind else events

    def assert_on_the_moment(self, mail: DrillMail) -> None:
        self.assertTrue(self.page.url.endswith(f"/l/{mail.delivery.token}/"), self.page.url)
        expect(self.page.locator("h1")).to_have_text(MOMENT_HEADING)
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])


class LinkClickTests(DrillEventTestCase):
    def test_a_click_leads_to_the_moment_and_counts_as_a_person_on_the_results_page(self):
        mail = self.send("soumu-tsutatsu")[0]
        self.follow(mail.link(self.live_server_url, "c"))
        self.assert_on_the_moment(mail)
        expect(self.page.locator("#report-contact")).to_have_text("情報政策課（内線 1234）")
        self.assertEqual(
            list(self.events(mail).values_list("kind", "source")), [("click", "url"), ("confirm", "script")]
        )

        self.classify()
        click = self.events(mail, Kind.CLICK).get()
        self.assertEqual((click.automated, click.reasons), (False, []))
        mail.delivery.refresh_from_db()
        self.assertEqual(mail.delivery.first_clicked_at, click.at)

        self.context.add_cookies([signed_in_cookie(self.alice, self.live_server_url)])
        self.page.goto(self.url(f"/drills/campaigns/{mail.delivery.campaign.public_id}/results/"))
        click_row = self.page.locator("table.funnel tr", has_text="リンクをクリック")
        expect(click_row.locator("td").first).to_have_text("1")
        self.assert_no_csp_violations()


class QRScanTests(DrillEventTestCase):
    def test_a_phone_scanning_the_qr_code_lands_on_the_moment(self):
        self.use_browser(PHONE_BROWSER, PHONE)
        mail = self.send("qr-mfa-koshin")[0]
        url = mail.link(self.live_server_url, "q")
        self.assertEqual(url, links.qr_url(mail.delivery.token))  # the URL the mail's QR code encodes
        self.follow(url)
        self.assert_on_the_moment(mail)
        self.classify()
        scan = self.events(mail, Kind.QR_SCAN).get()
        self.assertEqual((scan.source, scan.automated), ("qr", False))
        mail.delivery.refresh_from_db()
        self.assertEqual(mail.delivery.first_scanned_at, scan.at)
        self.assertIsNone(mail.delivery.first_clicked_at)


class AttachmentTests(DrillEventTestCase):
    def test_the_downloaded_document_links_to_the_moment(self):
        mail = self.send("kuni-shokai")[0]
        download_url = mail.link(self.live_server_url, "a")
        with self.page.expect_download() as download_info:
            self.page.evaluate("url => { window.location.href = url; }", download_url)
        download = download_info.value
        self.assertEqual(download.suggested_filename, "調査票.html")
        saved = Path(self.enterContext(tempfile.TemporaryDirectory())) / download.suggested_filename
        download.save_as(saved)
        self.assertIn(links.document_link(mail.delivery.token, "html"), saved.read_text(encoding="utf-8"))

        # The person opens the document from their downloads and follows its link.
        self.page.goto(saved.as_uri())
        with self.page.expect_response(lambda response: "/cf/" in response.url):
            self.page.locator(f"a[href^='{self.live_server_url}/a/']").click()
        self.assert_on_the_moment(mail)
        self.assertEqual(
            list(self.events(mail, Kind.ATTACHMENT).values_list("source", flat=True)), ["download", "html"]
        )
        self.classify()
        self.assertEqual(set(self.events(mail, Kind.ATTACHMENT).values_list("automated", flat=True)), {False})
        mail.delivery.refresh_from_db()
        self.assertIsNotNone(mail.delivery.first_attachment_at)


class OpenPixelTests(DrillEventTestCase):
    def test_showing_the_html_mail_loads_the_pixel_but_never_the_hidden_trap_link(self):
        mail = self.send("takuhai-fuzai")[0]
        self.assertIn(links.open_pixel_url(mail.delivery.token), mail.html)
        with self.page.expect_response(lambda response: "/o/" in response.url) as pixel:
            self.page.set_content(mail.html)
        self.assertEqual(pixel.value.headers["content-type"], "image/gif")
        trap = self.page.locator(f"a[href='{links.trap_url(mail.delivery.token)}']")
        expect(trap).to_have_count(1)
        expect(trap).to_be_hidden()
        self.assertEqual(list(self.events(mail).values_list("kind", flat=True)), ["open"])
        self.classify()
        self.assertFalse(self.events(mail, Kind.OPEN).get().automated)


class CapturedOutput(logging.Handler):
    """Every log record (at DEBUG, SQL with its parameters included) and everything printed, as text."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[str] = []
        self.printed = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name} {record.getMessage()} {record.exc_text or ''} {record.__dict__}")

    @contextlib.contextmanager
    def capturing(self):
        loggers = [logging.getLogger(), logging.getLogger("django"), logging.getLogger("django.db.backends")]
        levels = [logger.level for logger in loggers]
        logging.getLogger().addHandler(self)
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        try:
            # DEBUG makes every database connection log its SQL with the parameters.
            with (
                override_settings(DEBUG=True),
                contextlib.redirect_stdout(self.printed),
                contextlib.redirect_stderr(self.printed),
            ):
                yield self
        finally:
            logging.getLogger().removeHandler(self)
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)

    @property
    def text(self) -> str:
        return "\n".join(self.records) + self.printed.getvalue()


def stored_values(value) -> str | bytes:
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes | str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def places_holding(secret: str) -> list[str]:
    """Every table column (of every model, many-to-many tables included) and session that holds ``secret``.

    Columns are read raw, as the database stores them; sessions are decoded too, since their data is
    stored encoded.
    """
    found = []
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 — our own tables
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    stored = stored_values(value)
                    needle = secret.encode() if isinstance(stored, bytes) else secret
                    if needle in stored:
                        found.append(f"{table}.{column}")
    model_tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    assert model_tables <= tables, f"tables missing from the scan: {model_tables - tables}"
    found += [f"session {s.session_key}" for s in Session.objects.all() if secret in json.dumps(s.get_decoded())]
    return found


class CredentialFormTests(DrillEventTestCase):
    def test_what_was_typed_is_stored_nowhere_and_logged_nowhere(self):
        mail = self.send("password-shikko")[0]
        typed_id = f"id-{secrets.token_hex(8)}"
        typed_password = f"Pw-{secrets.token_urlsafe(18)}"
        output = CapturedOutput()
        with output.capturing():
            self.follow(mail.link(self.live_server_url, "c"))
            self.assertTrue(self.page.url.endswith(f"/l/{mail.delivery.token}/login/"), self.page.url)
            self.assert_no_csp_violations()
            self.page.fill("#login-username", typed_id)
            self.page.fill("#login-password", typed_password)
            with self.page.expect_response(lambda response: "/cf/" in response.url):
                self.page.click("#login-submit")
            self.assert_on_the_moment(mail)
            expect(self.page.locator(".moment-lead")).to_contain_text("どこにも保存していません")
            self.classify()

        submit = self.events(mail, Kind.SUBMIT).get()
        self.assertEqual(submit.filled_fields, ["username", "password"])
        self.assertFalse(submit.automated)
        mail.delivery.refresh_from_db()
        self.assertIsNotNone(mail.delivery.first_submitted_at)
        self.assertIn("INSERT INTO", output.text)  # the capture saw the hit's SQL with its parameters
        for secret in (typed_password, typed_id):
            self.assertEqual(places_holding(secret), [], "the typed value was stored")
            self.assertNotIn(secret, output.text, "the typed value was logged or printed")
            self.assertNotIn(secret, self.page.content(), "the typed value was shown back")
        cache = Path(settings.CACHES["default"]["LOCATION"])
        for path in cache.rglob("*") if cache.exists() else []:
            self.assertNotIn(typed_password.encode(), path.read_bytes() if path.is_file() else b"")


class TrapLinkTests(DrillEventTestCase):
    def test_a_scanner_on_the_trap_link_makes_the_hits_around_it_automated(self):
        scanned, untouched = self.send("soumu-tsutatsu", recipients=2)
        # A gateway follows every link of the mail, the hidden one included, and runs no script.
        scanner = self.context.request
        for url in (links.trap_url(scanned.delivery.token), scanned.link(self.live_server_url, "c")):
            self.assertIn(scanner.get(url, max_redirects=0).status, (200, 302))
        # Then the person opens the same link in a browser.
        self.follow(scanned.link(self.live_server_url, "c"))
        self.follow(untouched.link(self.live_server_url, "c"))
        self.classify()

        clicks = list(self.events(scanned, Kind.CLICK))
        self.assertEqual(len(clicks), 2)
        self.assertTrue(all(click.automated for click in clicks))
        self.assertTrue(all("trap" in click.reasons for click in clicks))
        self.assertEqual(self.events(scanned, Kind.TRAP).get().reasons, ["trap"])
        scanned.delivery.refresh_from_db()
        self.assertIsNone(scanned.delivery.first_clicked_at)
        self.assertFalse(self.events(untouched, Kind.CLICK).get().automated)  # the other recipient: a person

        self.context.add_cookies([signed_in_cookie(self.alice, self.live_server_url)])
        self.page.goto(self.url(f"/drills/campaigns/{scanned.delivery.campaign.public_id}/results/people/"))
        self.page.locator("details summary").first.click()
        expect(self.page.locator("ol.timeline").first).to_contain_text(
            "人には見えない隠しリンクへのアクセスと同じ時間帯"
        )
        self.assert_no_csp_violations()


class PrivacySettingTests(DrillEventTestCase):
    def test_the_address_is_stored_as_the_organization_chose(self):
        mails = self.send("soumu-tsutatsu", recipients=3)
        policies = [
            Organization.AddressPolicy.FULL,
            Organization.AddressPolicy.TRUNCATED,
            Organization.AddressPolicy.NONE,
        ]
        for mail, policy in zip(mails, policies, strict=True):
            Organization.objects.filter(pk=self.ward.pk).update(event_address_policy=policy)
            self.follow(mail.link(self.live_server_url, "c"))
            self.assert_on_the_moment(mail)
        stored = [set(self.events(mail).values_list("client_address", flat=True)) for mail in mails]
        self.assertEqual(stored, [{"127.0.0.1"}, {"127.0.0.0"}, {""}])


class UnknownTokenTests(DrillEventTestCase):
    def test_unknown_and_closed_tokens_get_one_neutral_page_and_no_event(self):
        closed = self.send("soumu-tsutatsu")[0]
        Campaign.objects.filter(pk=closed.delivery.campaign_id).update(state=Campaign.State.CLOSED)
        events_before = Event.objects.count()
        unknown = secrets.token_urlsafe(16)
        paths = [
            f"/c/{unknown}",
            f"/q/{unknown}",
            f"/a/{unknown}",
            f"/x/{unknown}",
            f"/l/{unknown}/",
            f"/l/{unknown}/login/",
            "/c/too-short",
            f"/c/{closed.delivery.token}",
            f"/l/{closed.delivery.token}/",
        ]
        pages = set()
        for path in paths:
            response = self.page.goto(self.url(path))
            self.assertEqual(response.status, 200, path)
            pages.add(self.page.locator("body").inner_text())
        self.assertEqual(len(pages), 1, "a bad token must not be told apart from another")
        self.assertNotIn(MOMENT_HEADING, pages.pop())
        self.assertEqual(Event.objects.count(), events_before)
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])


class QuizTests(DrillEventTestCase):
    def test_the_quiz_is_answered_in_the_browser_and_the_completion_recorded(self):
        mail = self.send("soumu-tsutatsu")[0]
        self.follow(mail.link(self.live_server_url, "c"))
        self.assert_on_the_moment(mail)
        questions = quiz.build_quiz(mail.delivery.scenario, self.ward, mail.delivery.token)
        self.assertEqual(len(questions), 3)
        for question in questions:
            self.page.check(f"#{quiz.field_name(question)}-{question.correct}")
        with self.page.expect_navigation():
            self.page.click("#quiz-submit")
        expect(self.page.locator("#quiz-score")).to_contain_text("3問中 3問 正解でした。")
        self.assert_no_csp_violations()

        completion = Completion.objects.get(assignment__delivery=mail.delivery)
        self.assertIsNotNone(completion.completed_at)
        self.assertEqual((completion.quiz_score, completion.quiz_questions), (3, 3))
        self.assertEqual(completion.answers, {question.key: question.correct for question in questions})
        self.assertEqual(self.events(mail, Kind.CLICK).count(), 1)  # the moment and the quiz add no failure


class MomentLayoutTests(DrillEventTestCase):
    def test_the_moment_reads_well_on_a_phone_and_a_desktop(self):
        mail = self.send("password-shikko")[0]
        for name, user_agent, viewport in (
            ("moment-phone", PHONE_BROWSER, PHONE),
            ("moment-desktop", DESKTOP_BROWSER, DESKTOP),
        ):
            self.use_browser(user_agent, viewport)
            self.page.goto(self.url(f"/l/{mail.delivery.token}/"))
            self.assert_on_the_moment(mail)
            expect(self.page.locator("#drill-mail")).to_be_visible()
            expect(self.page.locator("#rules li").first).to_be_visible()
            # Nothing wider than the screen: no sideways scrolling on a phone.
            overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            self.assertLessEqual(overflow, 0, name)
            save_full_page(self.page, name)
        self.assertEqual(self.events(mail).exclude(kind=Kind.CONFIRM).count(), 0)  # a visit is not a failure
