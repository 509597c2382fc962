"""Clean stops for the long-running commands (worker, mail catcher, demo): SIGTERM and Ctrl-C alike."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_requested_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs; the previous handlers come back after it.

    ``stop`` is that event when given: the worker passes one its handlers can see.

    Work in progress finishes its current step: the loop checks the event between steps instead of being
    interrupted by KeyboardInterrupt halfway through a database transaction.
    """
    stop = stop if stop is not None else threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
