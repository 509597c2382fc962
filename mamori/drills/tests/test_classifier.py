"""The automated-hit classifier: each reason, the first human times, and claiming without double work."""

import datetime
import threading
import unittest

from django.db import connection, connections
from django.test import TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mamori.core import worker
from mamori.core.tests.makers import make_organization
from mamori.drills.models import Delivery, Event
from mamori.drills.tests.tracking import make_event, make_running_campaign, make_sent_delivery
from mamori.drills.tracking.classifier import claim, classify_batch, classify_due_events

Kind = Event.Kind
SCANNER = "Mozilla/5.0 (compatible; BingPreview/1.0b)"


class ClassifierTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        cls.campaign = make_running_campaign(cls.ward)

    def setUp(self):
        self.now = timezone.now()
        # Hits well past the classification delay, an hour after the mail was sent.
        self.t = self.now - datetime.timedelta(minutes=30)
        self.delivery = make_sent_delivery(self.campaign, sent_at=self.t - datetime.timedelta(hours=1))

    def at(self, seconds: float = 0) -> datetime.datetime:
        return self.t + datetime.timedelta(seconds=seconds)

    def click(self, delivery=None, *, seconds: float = 0, confirmed: bool = True, **fields) -> Event:
        delivery = delivery or self.delivery
        event = make_event(delivery, Kind.CLICK, at=self.at(seconds), **fields)
        if confirmed:
            make_event(delivery, Kind.CONFIRM, at=self.at(seconds + 2), source="script")
        return event

    def classify(self) -> list[int]:
        return classify_batch(now=self.now)

    def verdict(self, event: Event) -> tuple[bool | None, list[str]]:
        event.refresh_from_db()
        return event.automated, event.reasons


class ReasonTests(ClassifierTestCase):
    def test_a_confirmed_click_from_a_browser_is_a_person(self):
        click = self.click()
        self.classify()
        self.assertEqual(self.verdict(click), (False, []))

    def test_a_hit_on_the_trap_link_is_automated(self):
        trap = make_event(self.delivery, Kind.TRAP, at=self.at())
        self.classify()
        self.assertEqual(self.verdict(trap), (True, ["trap"]))

    def test_hits_near_a_trap_hit_on_the_same_delivery_are_automated(self):
        before = self.click(seconds=-100)
        make_event(self.delivery, Kind.TRAP, at=self.at())
        after = self.click(seconds=100)
        self.classify()
        self.assertEqual(self.verdict(before), (True, ["trap"]))
        self.assertEqual(self.verdict(after), (True, ["trap"]))

    def test_a_trap_hit_says_nothing_about_other_deliveries_or_later_visits(self):
        make_event(self.delivery, Kind.TRAP, at=self.at())
        later = self.click(seconds=600)
        other = self.click(make_sent_delivery(self.campaign), seconds=5)
        self.classify()
        self.assertEqual(self.verdict(later), (False, []))
        self.assertEqual(self.verdict(other), (False, []))

    def test_a_hit_seconds_after_sending_is_automated(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(sent_at=self.at(-4))
        click = self.click()
        self.classify()
        self.assertEqual(self.verdict(click), (True, ["latency"]))

    def test_a_hit_before_sending_was_recorded_is_automated(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(sent_at=self.at(3))
        click = self.click()
        self.classify()
        self.assertEqual(self.verdict(click), (True, ["latency"]))

    @override_settings(TRACKING_LATENCY_SECONDS=60)
    def test_the_latency_threshold_is_a_setting(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(sent_at=self.at(-30))
        click = self.click()
        self.classify()
        self.assertEqual(self.verdict(click), (True, ["latency"]))

    def test_a_hit_after_the_latency_threshold_is_not_judged_by_it(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(sent_at=self.at(-11))
        click = self.click()
        self.classify()
        self.assertEqual(self.verdict(click), (False, []))

    def test_a_scanner_user_agent_is_automated_whatever_its_case(self):
        scanner = self.click(user_agent=SCANNER)
        library = self.click(make_sent_delivery(self.campaign), user_agent="PYTHON-REQUESTS/2.32")
        self.classify()
        self.assertEqual(self.verdict(scanner), (True, ["scanner_user_agent"]))
        self.assertEqual(self.verdict(library), (True, ["scanner_user_agent"]))

    def test_a_web_hit_without_a_user_agent_is_automated_but_a_reply_is_not(self):
        bare = self.click(user_agent="")
        reply = make_event(self.delivery, Kind.REPLY, at=self.at(1), source="mailbox", user_agent="")
        self.classify()
        self.assertEqual(self.verdict(bare), (True, ["scanner_user_agent"]))
        self.assertEqual(self.verdict(reply), (False, []))

    @override_settings(TRACKING_SCANNER_USER_AGENTS=["IntraScanner"])
    def test_the_user_agent_list_is_a_setting(self):
        ours = self.click(user_agent="IntraScanner/3.0")
        bing = self.click(make_sent_delivery(self.campaign), user_agent=SCANNER)
        self.classify()
        self.assertEqual(self.verdict(ours), (True, ["scanner_user_agent"]))
        self.assertEqual(self.verdict(bing), (False, []))

    def test_the_scanner_address_seen_by_the_hit_path_makes_the_hit_automated(self):
        click = self.click(reasons=["scanner_address"])
        self.classify()
        self.assertEqual(self.verdict(click), (True, ["scanner_address"]))

    @override_settings(TRACKING_MANY_TOKENS=3)
    def test_one_address_hitting_many_tokens_within_a_minute_is_automated(self):
        clicks = [
            self.click(make_sent_delivery(self.campaign), seconds=20 * number, client_address="203.0.113.0")
            for number in range(3)
        ]
        alone = self.click(make_sent_delivery(self.campaign), seconds=300, client_address="203.0.113.0")
        self.classify()
        for click in clicks:
            self.assertEqual(self.verdict(click), (True, ["many_tokens"]))
        self.assertEqual(self.verdict(alone), (False, []))

    @override_settings(TRACKING_MANY_TOKENS=3)
    def test_the_same_token_hit_again_and_again_is_not_many_tokens(self):
        clicks = [self.click(seconds=number, client_address="203.0.113.0") for number in range(5)]
        self.classify()
        self.assertEqual([self.verdict(click) for click in clicks], [(False, [])] * 5)

    @override_settings(TRACKING_MANY_TOKENS=3)
    def test_many_tokens_needs_stored_addresses(self):
        clicks = [self.click(make_sent_delivery(self.campaign), seconds=number) for number in range(5)]
        self.classify()
        self.assertEqual([self.verdict(click) for click in clicks], [(False, [])] * 5)

    def test_a_click_or_scan_whose_page_never_confirmed_is_automated(self):
        click = self.click(confirmed=False)
        scan = make_event(make_sent_delivery(self.campaign), Kind.QR_SCAN, at=self.at(), source="qr")
        document = make_event(make_sent_delivery(self.campaign), Kind.ATTACHMENT, at=self.at(), source="pdf")
        self.classify()
        for event in (click, scan, document):
            self.assertEqual(self.verdict(event), (True, ["no_confirmation"]))

    def test_a_confirmation_after_the_window_does_not_count(self):
        click = self.click(confirmed=False)
        make_event(self.delivery, Kind.CONFIRM, at=self.at(61), source="script")
        self.classify()
        self.assertEqual(self.verdict(click), (True, ["no_confirmation"]))

    def test_hits_without_a_page_need_no_confirmation(self):
        opened = make_event(self.delivery, Kind.OPEN, at=self.at(), source="pixel")
        download = make_event(self.delivery, Kind.ATTACHMENT, at=self.at(1), source="download")
        submit = make_event(self.delivery, Kind.SUBMIT, at=self.at(2), source="form")
        self.classify()
        for event in (opened, download, submit):
            self.assertEqual(self.verdict(event), (False, []))

    def test_reasons_add_up_in_a_stable_order(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(sent_at=self.at(-1))
        click = self.click(confirmed=False, user_agent=SCANNER, reasons=["scanner_address"])
        make_event(self.delivery, Kind.TRAP, at=self.at(1))
        self.classify()
        self.assertEqual(
            self.verdict(click),
            (True, ["trap", "latency", "scanner_user_agent", "scanner_address", "no_confirmation"]),
        )


class FirstTimeTests(ClassifierTestCase):
    def first_times(self) -> dict:
        self.delivery.refresh_from_db()
        return {
            field: getattr(self.delivery, field)
            for field in ("first_clicked_at", "first_scanned_at", "first_attachment_at", "first_submitted_at")
        }

    def test_a_persons_first_failures_are_set_on_the_delivery(self):
        self.click(seconds=50)
        self.click(seconds=10)
        make_event(self.delivery, Kind.SUBMIT, at=self.at(20), source="form")
        make_event(self.delivery, Kind.ATTACHMENT, at=self.at(30), source="download")
        self.classify()
        self.assertEqual(
            self.first_times(),
            {
                "first_clicked_at": self.at(10),
                "first_scanned_at": None,
                "first_attachment_at": self.at(30),
                "first_submitted_at": self.at(20),
            },
        )

    def test_automated_hits_set_no_first_time(self):
        self.click(seconds=5, user_agent=SCANNER)
        self.click(seconds=40)
        make_event(self.delivery, Kind.OPEN, at=self.at(1), source="pixel")
        self.classify()
        self.assertEqual(self.first_times()["first_clicked_at"], self.at(40))

    def test_a_first_time_is_never_moved_later(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(first_clicked_at=self.at(-100))
        self.click()
        self.classify()
        self.assertEqual(self.first_times()["first_clicked_at"], self.at(-100))

    def test_an_earlier_human_hit_classified_later_moves_it_earlier(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(first_clicked_at=self.at(100))
        self.click()
        self.classify()
        self.assertEqual(self.first_times()["first_clicked_at"], self.at())

    def test_it_writes_each_delivery_once_per_batch(self):
        other = make_sent_delivery(self.campaign)
        for delivery in (self.delivery, other):
            self.click(delivery)
            make_event(delivery, Kind.SUBMIT, at=self.at(5), source="form")
        with CaptureQueriesContext(connection) as queries:
            self.classify()
        statements = [query["sql"] for query in queries if "SAVEPOINT" not in query["sql"]]
        # Candidates, claim, trap hits, confirmations, one verdict, and one UPDATE per delivery.
        self.assertEqual(len(statements), 7)
        self.assertEqual(sum(sql.startswith('UPDATE "drills_delivery"') for sql in statements), 2)


class ClaimTests(ClassifierTestCase):
    def test_hits_are_classified_only_once_old_enough(self):
        young = make_event(self.delivery, Kind.CLICK, at=self.now - datetime.timedelta(seconds=30))
        self.assertFalse(classify_due_events(now=self.now))
        self.assertEqual(self.verdict(young), (None, []))
        self.assertTrue(classify_due_events(now=self.now + datetime.timedelta(minutes=2)))
        young.refresh_from_db()
        self.assertIsNotNone(young.classified_at)

    @override_settings(TRACKING_CLASSIFY_AFTER_SECONDS=600)
    def test_the_delay_is_a_setting(self):
        make_event(self.delivery, Kind.CLICK, at=self.now - datetime.timedelta(minutes=5))
        self.assertFalse(classify_due_events(now=self.now))

    def test_a_classified_hit_is_never_claimed_again(self):
        click = self.click()
        self.assertEqual(claim([click.pk], self.now), [click.pk])
        self.assertEqual(claim([click.pk], self.now), [])

    def test_batches_work_through_the_backlog_and_then_report_nothing_to_do(self):
        for number in range(5):
            self.click(seconds=number * 10)
        batches = 0
        while classify_due_events(batch_size=3, now=self.now):
            batches += 1
        self.assertEqual(batches, 4)  # 10 events: 3 + 3 + 3 + 1
        self.assertFalse(Event.objects.filter(classified_at=None).exists())

    def test_it_is_registered_with_the_worker(self):
        self.assertIn(classify_due_events, worker.HANDLERS)


@unittest.skipUnless(connection.vendor == "postgresql", "concurrent claiming is PostgreSQL's (SKIP LOCKED)")
class ConcurrentClassifierTests(TransactionTestCase):
    def test_two_workers_never_classify_the_same_hit(self):
        ward = make_organization("ward-c", "C区", domain="city-c.lg.jp")
        campaign = make_running_campaign(ward)
        at = timezone.now() - datetime.timedelta(hours=1)
        for _ in range(20):
            delivery = make_sent_delivery(campaign)
            for second in range(10):
                make_event(delivery, Kind.CLICK, at=at + datetime.timedelta(seconds=second))
        classified: list[list[int]] = [[], []]
        start = threading.Barrier(2)

        def work(number: int) -> None:
            try:
                start.wait()
                while ids := classify_batch(batch_size=7):
                    classified[number].extend(ids)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, args=(number,)) for number in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(set(classified[0]) & set(classified[1]))
        self.assertEqual(sorted(classified[0] + classified[1]), sorted(Event.objects.values_list("pk", flat=True)))
        self.assertTrue(all(classified), f"both workers should have classified some hits: {classified}")
