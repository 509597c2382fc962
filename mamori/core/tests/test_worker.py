"""`mamori worker`: gives every handler its turns, sleeps when idle, survives a failing round, stops on SIGTERM."""

import os
import signal
import threading
import time
from unittest import mock

from django.core.management import call_command
from django.test import SimpleTestCase

from mamori.core import worker
from mamori.core.management.commands.worker import run_until_stopped


class RunPendingOnceTests(SimpleTestCase):
    def test_it_gives_every_handler_a_turn_and_reports_work(self):
        calls = []
        handlers = [lambda: calls.append("import") or False, lambda: calls.append("send") or True]
        with mock.patch.object(worker, "HANDLERS", handlers):
            self.assertTrue(worker.run_pending_once())
        self.assertEqual(calls, ["import", "send"])

    def test_it_reports_idle_when_no_handler_did_work(self):
        with mock.patch.object(worker, "HANDLERS", [lambda: False]):
            self.assertFalse(worker.run_pending_once())


class WorkerLoopTests(SimpleTestCase):
    # The loop checks database connections between rounds, as in production (no test transaction here).
    databases = {"default"}

    def test_it_sleeps_between_idle_rounds(self):
        stop = threading.Event()
        rounds = []

        def idle_handler():
            rounds.append(time.monotonic())
            if len(rounds) == 3:
                stop.set()
            return False

        with mock.patch.object(worker, "HANDLERS", [idle_handler]):
            run_until_stopped(stop, poll_seconds=0.05)
        self.assertEqual(len(rounds), 3)
        self.assertGreaterEqual(rounds[2] - rounds[0], 0.09)

    def test_it_polls_again_at_once_while_there_is_work(self):
        stop = threading.Event()
        jobs = [True, True, True]

        def busy_handler():
            if not jobs:
                stop.set()
                return False
            return jobs.pop()

        with mock.patch.object(worker, "HANDLERS", [busy_handler]):
            started = time.monotonic()
            self.assertEqual(run_until_stopped(stop, poll_seconds=5), 3)
        self.assertLess(time.monotonic() - started, 1)

    def test_a_failing_round_is_logged_and_the_worker_goes_on(self):
        stop = threading.Event()
        outcomes = iter([RuntimeError("SMTP server went away"), True])

        def flaky_handler():
            outcome = next(outcomes, None)
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is None:
                stop.set()
            return bool(outcome)

        with mock.patch.object(worker, "HANDLERS", [flaky_handler]), self.assertLogs("mamori.worker", "ERROR") as logs:
            self.assertEqual(run_until_stopped(stop, poll_seconds=0.01), 1)
        self.assertIn("worker round failed", logs.output[0])

    def test_the_command_stops_cleanly_on_sigterm(self):
        rounds = []

        def handler_that_gets_terminated():
            rounds.append(1)
            if len(rounds) == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            return False

        previous = signal.getsignal(signal.SIGTERM)
        # The stop is process-wide: later tests in this process must find it cleared again.
        self.addCleanup(worker.stop_requested.clear)
        with (
            mock.patch.object(worker, "HANDLERS", [handler_that_gets_terminated]),
            self.assertLogs("mamori.worker") as logs,
        ):
            call_command("worker", poll_seconds=0.01)
        self.assertEqual(len(rounds), 3)
        self.assertTrue(worker.stop_requested.is_set())  # a handler halfway through a batch sees it too
        self.assertIn("worker stopped", logs.output[-1])
        self.assertIs(signal.getsignal(signal.SIGTERM), previous)
