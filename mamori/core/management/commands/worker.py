"""`mamori worker`: runs background work (roster imports now; sending and mailboxes later) until stopped."""

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from mamori.core.management.stopping import stop_requested_on_signals
from mamori.core.worker import run_pending_once, stop_requested

logger = logging.getLogger("mamori.worker")


def run_until_stopped(stop: threading.Event, *, poll_seconds: float) -> int:
    """Give every handler turns until ``stop`` is set; sleep ``poll_seconds`` whenever nothing was due.

    Returns the number of rounds that did work. A failing round is logged and retried after the sleep:
    one broken job must not take the worker down, and each handler's lease makes the retry safe.
    """
    busy_rounds = 0
    while not stop.is_set():
        # A long-lived process must drop connections the database closed (CONN_MAX_AGE, restarts).
        close_old_connections()
        try:
            did_work = run_pending_once()
        except Exception:
            logger.exception("worker round failed; retrying after %s s", poll_seconds)
            did_work = False
        if did_work:
            busy_rounds += 1
        else:
            stop.wait(poll_seconds)
    close_old_connections()
    return busy_rounds


class Command(BaseCommand):
    help = (
        "バックグラウンド処理（名簿取込など）を実行し続けます。SIGTERM または Ctrl-C で処理中の1件を終えて止まります。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=settings.WORKER_POLL_SECONDS,
            help="処理がないときに待つ秒数（既定: WORKER_POLL_SECONDS）",
        )

    def handle(self, *args, poll_seconds, **options):
        logger.info("worker started (poll every %s s)", poll_seconds)
        # The shared event, so that a handler in the middle of a batch (the drill sender) stops too.
        stop_requested.clear()
        with stop_requested_on_signals(stop_requested) as stop:
            busy_rounds = run_until_stopped(stop, poll_seconds=poll_seconds)
            logger.info("worker stopped after %d busy rounds", busy_rounds)
