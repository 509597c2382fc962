"""Several workers at once on PostgreSQL: every mail goes exactly once, and a shared rate limit holds.

Each worker is a thread with its own database connection, claiming with ``FOR UPDATE SKIP LOCKED``.
The data is committed (``TransactionTestCase``) so that the threads' connections see it.
"""

import itertools
import threading
import unittest
from collections import Counter
from unittest import mock

from django.db import connection, connections
from django.test import TransactionTestCase

from mamori.core.tests.makers import make_organization
from mamori.drills.models import Delivery
from mamori.drills.sender import claim
from mamori.drills.sender.worker import send_due_deliveries
from mamori.drills.tests.sending import make_due_campaign
from mamori.drills.tests.smtp_server import SMTPTestServer

WORKERS = 3


def run_workers(count: int, **options) -> list[int]:
    """Run ``count`` worker threads until nothing is due; the number of batches each one sent."""
    batches = [0] * count
    start = threading.Barrier(count)

    def work(number: int) -> None:
        try:
            start.wait()
            while send_due_deliveries(stop=threading.Event(), **options):
                batches[number] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return batches


@unittest.skipUnless(connection.vendor == "postgresql", "concurrent claiming is PostgreSQL's (SKIP LOCKED)")
class ConcurrentWorkersTests(TransactionTestCase):
    def setUp(self):
        self.ward = make_organization("ward-c", "C区", domain="city-c.lg.jp")

    def test_every_delivery_is_sent_exactly_once_by_several_workers(self):
        with SMTPTestServer() as server:
            campaign = make_due_campaign(self.ward, port=server.port, recipients=240)
            batches = run_workers(WORKERS, batch_size=8)
            received = Counter(server.recipients())
        self.assertEqual(set(received.values()), {1})
        self.assertEqual(set(received), set(campaign.deliveries.values_list("email", flat=True)))
        self.assertEqual(campaign.deliveries.filter(state=Delivery.State.SENT).count(), 240)
        self.assertTrue(all(batches), f"every worker should have claimed some batches: {batches}")

    def test_workers_sharing_a_rate_limited_profile_keep_to_its_rate_together(self):
        rate = 1200  # one mail every 50 ms
        with SMTPTestServer() as server, mock.patch.object(claim, "PACED_BATCH_SECONDS", 0.25):
            make_due_campaign(self.ward, port=server.port, recipients=25, rate_per_minute=rate)
            batches = run_workers(2)
            arrivals = sorted(mail.arrived for mail in server.received)
        self.assertEqual(len(arrivals), 25)
        self.assertGreater(sum(1 for count in batches if count), 1, f"both workers should have sent: {batches}")
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        self.assertGreater(min(gaps), 60 / rate * 0.8)
