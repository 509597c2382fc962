"""A real `mamori worker` killed with SIGKILL mid-campaign, then another one: nobody is lost, nobody doubled.

The processes share a file SQLite database of their own (the suite's test database lives in memory or in
another process's transaction). The test SMTP server holds its reply to one message so that the kill
lands exactly while that mail is in flight: the server has it, the database does not know yet. That mail
is the only one allowed to arrive twice.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from mamori.drills.tests.smtp_server import SMTPTestServer

RECIPIENTS = 120
IN_FLIGHT = 40  # the message the server holds while the first worker is killed
DOMAIN = "crash.lg.jp"


def populate_crash_campaign(port: int, recipients: int) -> None:
    """Run inside the child database: a ward and a campaign whose deliveries are all due (rate limit off)."""
    from mamori.core.tests.makers import make_organization
    from mamori.drills.tests.sending import make_due_campaign

    ward = make_organization("crash-ward", "クラッシュ区", domain=DOMAIN)
    make_due_campaign(ward, port=port, recipients=recipients)


class CrashTests(SimpleTestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.database = Path(self.directory.name) / "crash.sqlite3"
        self.environment = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "MAMORI_DATA_DIR": self.directory.name,
            "MAMORI_TESTING": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(settings.BASE_DIR),
        }
        self.addCleanup(self.directory.cleanup)

    def mamori(self, *arguments: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "mamori", *arguments], check=True, env=self.environment, cwd=settings.BASE_DIR
        )

    def start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [sys.executable, "-m", "mamori", "worker", "--poll-seconds", "0.1"],
            env=self.environment,
            cwd=settings.BASE_DIR,
        )
        self.addCleanup(lambda: worker.poll() is None and worker.kill())
        return worker

    def query(self, sql: str, *parameters) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=20) as database:
            return database.execute(sql, parameters).fetchall()

    def wait_until_nothing_is_queued(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.query("SELECT count(*) FROM drills_delivery WHERE state = 'queued'")[0][0]:
            self.assertLess(time.monotonic(), deadline, "the second worker did not finish the campaign")
            time.sleep(0.1)

    def test_a_killed_worker_loses_no_recipient_and_only_the_mail_in_flight_goes_twice(self):
        with SMTPTestServer() as server:
            self.mamori("migrate", "-v", "0")
            self.mamori(
                "shell",
                "-c",
                "from mamori.drills.tests.test_send_crash import populate_crash_campaign; "
                f"populate_crash_campaign({server.port}, {RECIPIENTS})",
            )
            server.hold_reply_to(IN_FLIGHT)
            first = self.start_worker()
            self.assertTrue(server.wait_until_holding(timeout=30), "the first worker sent nothing")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            server.release_hold()
            in_flight = server.received[IN_FLIGHT - 1].rcpt_tos[0]
            self.assertEqual(
                self.query("SELECT count(*) FROM drills_delivery WHERE state = 'sent'"), [(IN_FLIGHT - 1,)]
            )
            # Time passes: the dead worker's lease on the rest of its batch runs out.
            self.query("UPDATE drills_delivery SET lease_until = '2000-01-01 00:00:00' WHERE lease_until IS NOT NULL")
            second = self.start_worker()
            self.wait_until_nothing_is_queued(timeout=30)
            second.send_signal(signal.SIGTERM)
            self.assertEqual(second.wait(10), 0, "the worker should stop cleanly on SIGTERM")
            received = Counter(server.recipients())
        expected = {email for (email,) in self.query("SELECT email FROM drills_delivery")}
        self.assertEqual(set(received), expected)
        self.assertEqual({email: count for email, count in received.items() if count > 1}, {in_flight: 2})
        self.assertEqual(self.query("SELECT DISTINCT state FROM drills_delivery"), [("sent",)])
        self.assertEqual(self.query("SELECT state FROM drills_campaign"), [("running",)])
