"""Background work without a broker: each handler claims due rows from the database and processes them.

A handler is a callable returning True when it did some work (so the worker polls again at once)
and False when it found nothing due. Apps register theirs in ``AppConfig.ready``.
"""

import threading
from collections.abc import Callable

JobHandler = Callable[[], bool]
HANDLERS: list[JobHandler] = []
# Set when `mamori worker` is asked to stop (SIGTERM, Ctrl-C): a handler working through a batch checks it
# between items and returns early, leaving the rest to be claimed again.
stop_requested = threading.Event()


def register(handler: JobHandler) -> JobHandler:
    if handler not in HANDLERS:
        HANDLERS.append(handler)
    return handler


def run_pending_once() -> bool:
    """Give every handler one turn; True if any did work."""
    did_work = False
    for handler in HANDLERS:
        did_work = handler() or did_work
    return did_work


def drain(max_rounds: int = 1000) -> None:
    """Run handlers until nothing is due (tests and the demo seed use this)."""
    for _ in range(max_rounds):
        if not run_pending_once():
            return
