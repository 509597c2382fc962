"""Claiming due deliveries: a batch of one sending profile's mail, leased to one worker.

A delivery is due when it is queued, its ``scheduled_at`` has come, nobody holds a live lease on it and its
campaign is scheduled or sending and not paused. Claiming sets ``lease_until``; a worker killed mid-batch
leaves its unsent rows leased until then, after which any worker may claim them again.

Several workers never take the same row:

- PostgreSQL: the candidates are selected ``FOR UPDATE SKIP LOCKED``, so a second worker skips rows the
  first is claiming instead of waiting for them;
- SQLite: the claim runs in an ``IMMEDIATE`` transaction (one writer at a time);
- on both, the UPDATE that sets the lease re-checks state and lease and returns the ids it really changed.

Rate limits hold across workers: before sending, a worker reserves consecutive sending slots on the profile
(``paced_until``), and only claims for a rate-limited profile whose reserved slots are about to run out.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mamori.drills.models import Campaign, Delivery, SendingProfile

SENDABLE_CAMPAIGN_STATES = (Campaign.State.SCHEDULED, Campaign.State.SENDING)
# A rate-limited profile is claimed in batches of about this much sending time: long enough to keep one
# connection busy, short enough that pausing or stopping takes effect soon.
PACED_BATCH_SECONDS = 5
# Claim for a rate-limited profile only when the slots already reserved end within this time: the worker
# sending for it keeps it, the others serve other profiles meanwhile.
PACING_LOOKAHEAD = datetime.timedelta(seconds=1)
# Another worker may take the rows between choosing a profile and claiming them; then we look again.
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Batch:
    """Deliveries leased to this worker until ``lease_until``, all sent through ``profile``.

    For a rate-limited profile the mails go one every ``interval`` seconds from ``first_slot`` on;
    ``reserved_until`` is where this batch's reservation ends (``None`` when unlimited).
    """

    profile: SendingProfile
    delivery_ids: list[int]
    lease_until: datetime.datetime
    claimed_at: datetime.datetime
    first_slot: datetime.datetime | None = None
    reserved_until: datetime.datetime | None = None

    @property
    def interval(self) -> float:
        rate = self.profile.rate_per_minute
        return 60.0 / rate if rate else 0.0


def due_deliveries(now: datetime.datetime) -> QuerySet:
    return Delivery.objects.filter(
        state=Delivery.State.QUEUED,
        scheduled_at__lte=now,
        campaign__paused_at__isnull=True,
        campaign__state__in=SENDABLE_CAMPAIGN_STATES,
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))


def next_profile_id(now: datetime.datetime) -> int | None:
    """The profile of the longest-waiting due delivery, among profiles free to be claimed for now."""
    free = Q(campaign__sending_profile__paced_until__isnull=True) | Q(
        campaign__sending_profile__paced_until__lte=now + PACING_LOOKAHEAD
    )
    return (
        due_deliveries(now)
        .filter(free)
        .order_by("scheduled_at")
        .values_list("campaign__sending_profile_id", flat=True)
        .first()
    )


def claim_batch(*, batch_size: int, lease_seconds: float, now: datetime.datetime | None = None) -> Batch | None:
    """Lease up to ``batch_size`` due deliveries of one profile; ``None`` when nothing is due."""
    for _attempt in range(CLAIM_ATTEMPTS):
        moment = now or timezone.now()
        profile_id = next_profile_id(moment)
        if profile_id is None:
            return None
        batch = claim_for_profile(profile_id, batch_size=batch_size, lease_seconds=lease_seconds, now=moment)
        if batch is not None:
            return batch
    return None


@transaction.atomic
def claim_for_profile(profile_id: int, *, batch_size: int, lease_seconds: float, now: datetime.datetime):
    """Claim one batch for the profile; ``None`` if another worker got there first.

    1. For a rate-limited profile, lock its row (its claims take turns; unlimited ones run side by side) and give up if
       another worker has reserved slots beyond the lookahead meanwhile.
    2. Select the oldest due deliveries (``SKIP LOCKED`` on PostgreSQL) and lease them with a conditional
       UPDATE.
    3. Reserve one slot per leased delivery, starting where the previous reservation ends.
    """
    profile = SendingProfile.objects.get(pk=profile_id)
    limit = batch_size
    if profile.rate_per_minute:
        profile = SendingProfile.objects.select_for_update().get(pk=profile_id)
        if profile.paced_until and profile.paced_until > now + PACING_LOOKAHEAD:
            return None
        limit = max(1, min(batch_size, int(profile.rate_per_minute * PACED_BATCH_SECONDS / 60)))
    candidates = list(
        due_deliveries(now)
        .filter(campaign__sending_profile_id=profile_id)
        .order_by("scheduled_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return None
    lease_until = now + datetime.timedelta(seconds=lease_seconds)
    if not profile.rate_per_minute:
        leased = lease(candidates, lease_until, now)
        return Batch(profile, leased, lease_until, now) if leased else None
    first_slot = max(profile.paced_until or now, now)
    window = datetime.timedelta(seconds=len(candidates) * 60 / profile.rate_per_minute)
    # The lease covers the time spent waiting for this batch's slots as well.
    lease_until += first_slot + window - now
    leased = lease(candidates, lease_until, now)
    if not leased:
        return None
    reserved_until = first_slot + datetime.timedelta(seconds=len(leased) * 60 / profile.rate_per_minute)
    SendingProfile.objects.filter(pk=profile_id).update(paced_until=reserved_until)
    return Batch(profile, leased, lease_until, now, first_slot=first_slot, reserved_until=reserved_until)


def lease(ids: list[int], lease_until: datetime.datetime, now: datetime.datetime) -> list[int]:
    """Set the lease on those of ``ids`` still queued and unleased; returns the ids actually leased."""
    adapt = connection.ops.adapt_datetimefield_value
    placeholders = ", ".join(["%s"] * len(ids))
    # Raw SQL for RETURNING (the ORM's update() only counts rows); the table name is our own model's.
    sql = (
        f"UPDATE {Delivery._meta.db_table} SET lease_until = %s "  # noqa: S608
        f"WHERE id IN ({placeholders}) AND state = %s AND (lease_until IS NULL OR lease_until <= %s) "
        "RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(lease_until), *ids, Delivery.State.QUEUED.value, adapt(now)])
        return sorted(row[0] for row in cursor.fetchall())


def release(batch: Batch, ids: list[int]) -> int:
    """Give unsent deliveries of the batch back to the queue at once (stop, pause, lease running out)."""
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=ids, state=Delivery.State.QUEUED, lease_until=batch.lease_until).update(
        lease_until=None
    )


def return_unused_slots(batch: Batch, used_until: datetime.datetime) -> None:
    """Hand back the slots this batch reserved but did not use, unless another worker reserved after us."""
    if batch.reserved_until is None or used_until >= batch.reserved_until:
        return
    SendingProfile.objects.filter(pk=batch.profile.pk, paced_until=batch.reserved_until).update(
        paced_until=max(used_until, timezone.now())
    )
