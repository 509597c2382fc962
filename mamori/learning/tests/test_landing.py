"""The fake login page: shown for a live token, neutral otherwise; a submit keeps field names, never values."""

import logging
from unittest import mock

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.debug import ExceptionReporter

from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import Campaign, Event
from mamori.drills.tests.makers import make_scenario
from mamori.learning.models import LandingPage
from mamori.learning.tests.makers import make_credential_scenario, make_delivery

TYPED_ID = "yamada-typed-id-8c41"
TYPED_SECRET = "Hunter2-typed-secret-5e9a"
UNKNOWN_TOKEN = "A" * 22


class CaptureEverything(logging.Handler):
    """Every log record of every logger, formatted with its traceback."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def tables_containing(text: str) -> list[str]:
    """Every column of every table in the test database whose text (or hex of bytes) contains ``text``."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 — names from introspection
                    f"WHERE CAST({quote(column.name)} AS TEXT) LIKE %s OR CAST({quote(column.name)} AS TEXT) LIKE %s",
                    [f"%{text}%", f"%{text.encode().hex()}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


class LandingPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.scenario = make_credential_scenario(cls.ward_a)
        cls.delivery = make_delivery(cls.person_a, scenario=cls.scenario)

    def landing_url(self, token=None):
        return reverse("learning:landing", args=[token or self.delivery.token])

    def test_it_shows_a_generic_municipal_login_for_a_live_token(self):
        response = self.client.get(self.landing_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<title>職員ポータル - ログイン</title>", html=True)
        self.assertContains(response, "統合認証")
        self.assertContains(response, 'id="login-username"')
        self.assertContains(response, 'id="login-password"')
        self.assertContains(response, '<label for="login-password">パスワード</label>', html=True)
        self.assertNotContains(response, "mamori")
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_it_loads_nothing_from_outside_and_has_no_inline_style(self):
        body = self.client.get(self.landing_url()).content.decode()
        self.assertNotIn("http://", body)
        self.assertNotIn("https://", body)
        self.assertNotIn("style=", body)
        self.assertNotIn("<style", body)

    def test_it_includes_the_confirmation_script(self):
        response = self.client.get(self.landing_url())
        self.assertContains(response, "drills/confirm.js")
        self.assertContains(response, f'data-beacon="/cf/{self.delivery.token}"')

    def test_it_shows_the_scenarios_own_texts_and_colours(self):
        LandingPage.objects.create(
            organization=self.ward_a,
            scenario=self.scenario,
            heading="グループウェア ログイン",
            username_label="ユーザーID",
            header_colour="#aa0000",
        )
        response = self.client.get(self.landing_url())
        self.assertContains(response, "グループウェア ログイン")
        self.assertContains(response, "ユーザーID")
        look = LandingPage.objects.get(scenario=self.scenario)
        self.assertContains(response, reverse("learning:look", args=[look.public_id]))

    def test_it_answers_an_unknown_token_with_the_neutral_page(self):
        neutral = self.client.get(reverse("tracking:click", args=[UNKNOWN_TOKEN]))
        for token in (UNKNOWN_TOKEN, "short", "x" * 200):
            with self.subTest(token=token):
                response = self.client.get(self.landing_url(token))
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.content, neutral.content)

    def test_it_answers_a_closed_campaigns_token_with_the_neutral_page(self):
        for state in (Campaign.State.CLOSED, Campaign.State.CANCELLED, Campaign.State.DRAFT):
            with self.subTest(state=state):
                delivery = make_delivery(
                    self.person_a, scenario=self.scenario, state=state, round_number=10 + len(state)
                )
                response = self.client.get(self.landing_url(delivery.token))
                self.assertContains(response, "ページを表示できません")
                self.assertNotContains(response, "統合認証")

    def test_a_post_to_an_unknown_token_stores_nothing(self):
        response = self.client.post(self.landing_url(UNKNOWN_TOKEN), {"username": "a", "password": "b"})
        self.assertContains(response, "ページを表示できません")
        self.assertFalse(Event.objects.exists())

    def test_it_sends_other_drills_to_the_teachable_moment(self):
        delivery = make_delivery(self.person_a, scenario=make_scenario(self.ward_a, "リンク"), round_number=2)
        response = self.client.post(self.landing_url(delivery.token), {"username": "a", "password": "b"})
        self.assertRedirects(response, reverse("learning:moment", args=[delivery.token]), fetch_redirect_response=False)
        self.assertFalse(Event.objects.exists())

    def test_a_submit_records_which_fields_were_filled_and_goes_to_the_moment(self):
        client = Client(enforce_csrf_checks=True, headers={"user-agent": "Mozilla/5.0 test"})
        response = client.post(self.landing_url(), {"username": TYPED_ID, "password": ""})
        self.assertRedirects(
            response, reverse("learning:moment", args=[self.delivery.token]), fetch_redirect_response=False
        )
        event = Event.objects.get()
        self.assertEqual(event.kind, Event.Kind.SUBMIT)
        self.assertEqual(event.source, "form")
        self.assertEqual(event.delivery, self.delivery)
        self.assertEqual(event.filled_fields, ["username"])
        self.assertEqual(event.user_agent, "Mozilla/5.0 test")

    def test_it_records_only_the_login_fields_names(self):
        self.client.post(self.landing_url(), {"username": " ", "password": "x", TYPED_SECRET: "y"})
        self.assertEqual(Event.objects.get().filled_fields, ["password"])

    def test_the_typed_values_are_nowhere_in_the_database_the_logs_or_the_queries(self):
        handler = CaptureEverything()
        root = logging.getLogger()
        previous_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            with CaptureQueriesContext(connection) as queries:
                response = self.client.post(self.landing_url(), {"username": TYPED_ID, "password": TYPED_SECRET})
                moment = self.client.get(response["Location"])
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
        self.assertEqual(Event.objects.get().filled_fields, ["username", "password"])
        self.assertGreater(len(queries), 0)
        for typed in (TYPED_ID, TYPED_SECRET):
            with self.subTest(typed=typed):
                self.assertEqual(tables_containing(typed), [])
                self.assertNotIn(typed, "\n".join(handler.lines))
                self.assertNotIn(typed, "\n".join(query["sql"] for query in queries.captured_queries))
                self.assertNotIn(typed, response.content.decode() + response["Location"])
                self.assertNotIn(typed, moment.content.decode())

    def test_the_search_would_find_a_stored_value(self):
        # The check above is only worth something if it can find what it looks for.
        self.scenario.subject = TYPED_SECRET
        self.scenario.save()
        self.assertIn("drills_scenario.subject", tables_containing(TYPED_SECRET))

    def test_an_error_report_of_a_failed_submit_hides_the_typed_values(self):
        self.client.raise_request_exception = False
        with (
            mock.patch("mamori.learning.actions.record_hit", side_effect=RuntimeError("database away")),
            self.assertLogs("django.request", level="ERROR") as logs,
        ):
            response = self.client.post(self.landing_url(), {"username": TYPED_ID, "password": TYPED_SECRET})
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.wsgi_request.sensitive_post_parameters, "__ALL__")
        reporter = ExceptionReporter(response.wsgi_request, *response.exc_info)
        report = reporter.get_traceback_text() + reporter.get_traceback_html() + "\n".join(logs.output)
        self.assertIn("database away", report)
        for typed in (TYPED_ID, TYPED_SECRET):
            self.assertNotIn(typed, report)
