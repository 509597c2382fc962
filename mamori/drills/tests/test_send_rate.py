"""The rate limit, measured at a real SMTP server: the mails arrive one interval apart, never in a burst."""

import itertools
import threading

from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import SendingProfile
from mamori.drills.sender.worker import send_due_deliveries
from mamori.drills.tests.sending import make_due_campaign
from mamori.drills.tests.smtp_server import SMTPTestServer

RATE_PER_MINUTE = 1200  # one mail every 50 ms: a second and a half for the test
MAILS = 31


def gaps(arrivals: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


class RateLimitTests(BaseTestCase):
    def test_it_sends_at_the_profiles_rate_within_two_percent(self):
        with SMTPTestServer() as server:
            campaign = make_due_campaign(
                self.ward_a, port=server.port, recipients=MAILS, rate_per_minute=RATE_PER_MINUTE
            )
            while send_due_deliveries(stop=threading.Event()):
                pass
            arrivals = [mail.arrived for mail in server.received]
        self.assertEqual(len(arrivals), MAILS)
        interval = 60 / RATE_PER_MINUTE
        achieved = (MAILS - 1) / (arrivals[-1] - arrivals[0]) * 60
        self.assertAlmostEqual(achieved, RATE_PER_MINUTE, delta=RATE_PER_MINUTE * 0.02)
        # Never faster than the limit, even for a moment (a few ms of scheduling jitter allowed).
        self.assertGreater(min(gaps(arrivals)), interval * 0.8)
        profile = SendingProfile.objects.get(pk=campaign.sending_profile_id)
        self.assertIsNotNone(profile.paced_until)

    def test_a_stop_during_the_wait_leaves_the_rest_queued_and_hands_back_the_slots(self):
        with SMTPTestServer() as server:
            campaign = make_due_campaign(self.ward_a, port=server.port, recipients=5, rate_per_minute=60)
            stop = threading.Event()
            threading.Timer(0.3, stop.set).start()
            send_due_deliveries(stop=stop)
            self.assertEqual(len(server.received), 1)
        self.assertEqual(campaign.deliveries.filter(state="queued", lease_until=None).count(), 4)
        profile = SendingProfile.objects.get(pk=campaign.sending_profile_id)
        # Five slots of a second were reserved; the four unused ones are given back.
        self.assertLess((profile.paced_until - campaign.deliveries.get(state="sent").sent_at).total_seconds(), 1.5)
