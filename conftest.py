"""Test-wide setup: the suite runs sealed (loopback only)."""

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls in those tests are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
