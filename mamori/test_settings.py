"""Settings for the test suite: the environment-driven settings in test mode (plain HTTP, fast hashing)."""

import os

os.environ.setdefault("MAMORI_TESTING", "1")

from mamori.settings import *  # noqa: F403
