"""Progress of a running apply, published through the cache.

The apply runs in one transaction, so progress written to its own database rows would stay invisible
to the web process until the end. The cache (a FileBasedCache shared by web and worker processes) is
outside the transaction and works the same on SQLite and PostgreSQL.
"""

import time

from django.core.cache import cache

from mamori.core.models import RosterImport

# At most this often: a cache write per batch would cost more than the batch on fast databases.
PUBLISH_INTERVAL_SECONDS = 0.5
# Outlives any apply; a crashed worker's stale progress disappears by itself.
PROGRESS_TTL_SECONDS = 60 * 60


def _key(roster_import: RosterImport) -> str:
    return f"roster-import-progress:{roster_import.public_id}"


class ProgressPublisher:
    """The ``progress(done, total, step)`` callback of ``apply_plan`` for one import."""

    def __init__(self, roster_import: RosterImport) -> None:
        self.key = _key(roster_import)
        self.last_published = 0.0

    def __call__(self, done: int, total: int, step: str) -> None:
        now = time.monotonic()
        if now - self.last_published < PUBLISH_INTERVAL_SECONDS and done < total:
            return
        self.last_published = now
        cache.set(self.key, {"done": done, "total": total, "step": step}, PROGRESS_TTL_SECONDS)

    def clear(self) -> None:
        cache.delete(self.key)


def read_progress(roster_import: RosterImport) -> dict | None:
    """``{"done", "total", "step", "percent"}`` while the import runs, else None."""
    if roster_import.state != RosterImport.State.RUNNING:
        return None
    progress = cache.get(_key(roster_import))
    if not progress:
        return None
    total = progress["total"]
    return {**progress, "percent": int(100 * progress["done"] / total) if total else 0}
