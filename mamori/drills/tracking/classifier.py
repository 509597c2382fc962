"""The automated-hit classifier: a worker handler deciding, shortly after each hit, person or machine.

Mail gateways, link scanners and previewers fetch a drill mail's links within seconds of delivery; counted
as people, they would make every KPI wrong. Every hit is kept; this handler sets ``Event.automated`` with
the reasons (``reasons.Reason``), and for a person's failure sets the delivery's first-time field.

A hit is classified once it is ``TRACKING_CLASSIFY_AFTER_SECONDS`` old, so that what decides it has had
time to arrive: the page's confirmation beacon, the scanner's hit on the trap link. The signals:

- ``trap``: the hidden trap link of the same delivery was hit within ``TRACKING_TRAP_WINDOW_SECONDS``
  (before or after); a hit on the trap link itself is always automated.
- ``latency``: within ``TRACKING_LATENCY_SECONDS`` of ``sent_at`` (or before it was recorded): a gateway
  scanning the mail on delivery.
- ``scanner_user_agent``: a user agent containing one of ``TRACKING_SCANNER_USER_AGENTS``, or none at all
  (every browser sends one; a reply from the mailbox has none and is not judged by it).
- ``scanner_address``: a client address in ``TRACKING_SCANNER_NETWORKS``. Judged by the hit path, which
  alone sees the full address: it works whatever the organization's address policy.
- ``many_tokens``: the same stored address hit ``TRACKING_MANY_TOKENS`` different deliveries within a
  minute. Only as good as the stored address: never fires under the "none" policy, and under "truncated"
  counts a whole /24 (or /48) as one address.
- ``no_confirmation``: a click, a QR scan or a document's link leads to a page carrying the confirmation
  script (``static/drills/confirm.js``); no beacon within ``TRACKING_CONFIRM_WINDOW_SECONDS`` means no
  browser ran the page. QR scans are included: phone browsers run the script, and the gateways that decode
  QR codes in mail do not. Not applied to open pixels and downloads (no page), nor to form submits (sent
  from the landing page by a person typing; a browser with scripts off must not make them automated).

Claiming: in one transaction, candidates are selected ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite takes
its single write lock at ``BEGIN IMMEDIATE``) and claimed with a conditional UPDATE (``classified_at IS
NULL``) that returns the ids it changed; only those are classified. A worker that dies mid-batch rolls
the claim back, and the events are classified by the next run.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from mamori.drills import attachments
from mamori.drills.models import Delivery, Event
from mamori.drills.tracking.reasons import Reason, in_order

Kind = Event.Kind
BATCH_SIZE = 1000
# ``many_tokens`` counts the different deliveries one address hit within this window around each hit.
MANY_TOKENS_WINDOW = datetime.timedelta(minutes=1)
# A person's failure of each kind sets this field of the delivery (its first time).
FIRST_TIME_FIELDS = {
    Kind.CLICK: "first_clicked_at",
    Kind.QR_SCAN: "first_scanned_at",
    Kind.ATTACHMENT: "first_attachment_at",
    Kind.SUBMIT: "first_submitted_at",
    Kind.REPLY: "first_replied_at",
}


@dataclass(frozen=True)
class Candidate:
    """An unclassified event with what judging it needs."""

    pk: int
    delivery_id: int
    kind: str
    at: datetime.datetime
    source: str
    user_agent: str
    client_address: str
    reasons: tuple[str, ...]
    sent_at: datetime.datetime | None


def classify_due_events(*, batch_size: int = BATCH_SIZE, now: datetime.datetime | None = None) -> bool:
    """The worker handler: classify one batch of hits old enough to judge; False when there were none."""
    return bool(classify_batch(batch_size=batch_size, now=now))


@transaction.atomic
def classify_batch(*, batch_size: int = BATCH_SIZE, now: datetime.datetime | None = None) -> list[int]:
    """Claim and classify up to ``batch_size`` due events; the ids this call classified.

    1. Select the oldest unclassified events older than the delay, skipping rows another worker holds.
    2. Claim them (conditional UPDATE returning the ids it changed).
    3. Read the surrounding hits the signals need: trap hits and confirmations of the same deliveries, and
       hits from the same addresses — three indexed queries for the whole batch.
    4. Store the verdicts, one UPDATE per distinct verdict.
    5. For each delivery with a person's failure, one conditional UPDATE of its first times.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.TRACKING_CLASSIFY_AFTER_SECONDS)
    candidates = due_candidates(cutoff, batch_size)
    claimed = set(claim([candidate.pk for candidate in candidates], now))
    candidates = [candidate for candidate in candidates if candidate.pk in claimed]
    if not candidates:
        return []
    signals = Signals.around(candidates)
    verdicts = {candidate.pk: judge(candidate, signals) for candidate in candidates}
    store_verdicts(verdicts)
    set_first_times(candidate for candidate in candidates if not verdicts[candidate.pk])
    return sorted(verdicts)


def due_candidates(cutoff: datetime.datetime, batch_size: int) -> list[Candidate]:
    rows = (
        Event.objects.filter(classified_at__isnull=True, at__lte=cutoff)
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(
            "pk", "delivery_id", "kind", "at", "source", "user_agent", "client_address", "reasons", "delivery__sent_at"
        )[:batch_size]
    )
    return [
        Candidate(pk, delivery_id, kind, at, source, user_agent, address, tuple(reasons), sent_at)
        for pk, delivery_id, kind, at, source, user_agent, address, reasons, sent_at in rows
    ]


def claim(ids: list[int], now: datetime.datetime) -> list[int]:
    """Mark ``ids`` classified unless someone else did; the ids this call changed."""
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    # Raw SQL for RETURNING (the ORM's update() only counts rows); the table name is our own model's.
    sql = (
        f"UPDATE {Event._meta.db_table} SET classified_at = %s "  # noqa: S608
        f"WHERE id IN ({placeholders}) AND classified_at IS NULL RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), *ids])
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class Signals:
    """What the batch's verdicts depend on besides the hits themselves."""

    traps: dict[int, list[datetime.datetime]]
    confirmations: dict[int, list[datetime.datetime]]
    by_address: dict[str, list[tuple[datetime.datetime, int]]]
    scanner_agents: tuple[str, ...]

    @classmethod
    def around(cls, candidates: list[Candidate]) -> "Signals":
        earliest = min(candidate.at for candidate in candidates)
        latest = max(candidate.at for candidate in candidates)
        deliveries = {candidate.delivery_id for candidate in candidates}
        trap_window = datetime.timedelta(seconds=settings.TRACKING_TRAP_WINDOW_SECONDS)
        confirm_window = datetime.timedelta(seconds=settings.TRACKING_CONFIRM_WINDOW_SECONDS)
        addresses = {candidate.client_address for candidate in candidates if candidate.client_address}
        return cls(
            traps=times_by_delivery(deliveries, Kind.TRAP, earliest - trap_window, latest + trap_window),
            confirmations=times_by_delivery(deliveries, Kind.CONFIRM, earliest, latest + confirm_window),
            by_address=hits_by_address(addresses, earliest - MANY_TOKENS_WINDOW, latest + MANY_TOKENS_WINDOW)
            if settings.TRACKING_MANY_TOKENS
            else {},
            scanner_agents=tuple(agent.lower() for agent in settings.TRACKING_SCANNER_USER_AGENTS),
        )


def times_by_delivery(deliveries: set[int], kind: str, start, end) -> dict[int, list[datetime.datetime]]:
    times = defaultdict(list)
    rows = Event.objects.filter(delivery_id__in=deliveries, kind=kind, at__range=(start, end)).values_list(
        "delivery_id", "at"
    )
    for delivery_id, at in rows:
        times[delivery_id].append(at)
    return times


def hits_by_address(addresses: set[str], start, end) -> dict[str, list[tuple[datetime.datetime, int]]]:
    """Every hit from these addresses in the period, as (time, delivery id), sorted by time."""
    hits = defaultdict(list)
    if not addresses:
        return hits
    rows = Event.objects.filter(client_address__in=addresses, at__range=(start, end)).values_list(
        "client_address", "at", "delivery_id"
    )
    for address, at, delivery_id in rows:
        hits[address].append((at, delivery_id))
    for address_hits in hits.values():
        address_hits.sort()
    return hits


def judge(candidate: Candidate, signals: Signals) -> list[str]:
    """The reasons ``candidate`` was automated, in ``Reason`` order; empty for a person."""
    reasons = list(candidate.reasons)  # what the hit path already saw (the scanner address)
    if candidate.kind == Kind.TRAP or near_trap(candidate, signals):
        reasons.append(Reason.TRAP)
    if candidate.sent_at is not None and candidate.at - candidate.sent_at < latency():
        reasons.append(Reason.LATENCY)
    if candidate.kind != Kind.REPLY and scanner_agent(candidate.user_agent, signals.scanner_agents):
        reasons.append(Reason.SCANNER_USER_AGENT)
    if many_tokens(candidate, signals):
        reasons.append(Reason.MANY_TOKENS)
    if leads_to_page(candidate) and not confirmed(candidate, signals):
        reasons.append(Reason.NO_CONFIRMATION)
    return in_order(reasons)


def latency() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.TRACKING_LATENCY_SECONDS)


def near_trap(candidate: Candidate, signals: Signals) -> bool:
    window = datetime.timedelta(seconds=settings.TRACKING_TRAP_WINDOW_SECONDS)
    return any(abs(candidate.at - trap_at) <= window for trap_at in signals.traps.get(candidate.delivery_id, ()))


def scanner_agent(user_agent: str, scanner_agents: tuple[str, ...]) -> bool:
    lowered = user_agent.lower()
    return not lowered.strip() or any(agent in lowered for agent in scanner_agents)


def many_tokens(candidate: Candidate, signals: Signals) -> bool:
    hits = signals.by_address.get(candidate.client_address)
    if not hits:
        return False
    start = bisect.bisect_left(hits, (candidate.at - MANY_TOKENS_WINDOW, 0))
    end = bisect.bisect_right(hits, (candidate.at + MANY_TOKENS_WINDOW, float("inf")))
    return len({delivery_id for _at, delivery_id in hits[start:end]}) >= settings.TRACKING_MANY_TOKENS


def leads_to_page(candidate: Candidate) -> bool:
    """Clicks, scans and the links inside documents land on a page carrying the confirmation script."""
    if candidate.kind in (Kind.CLICK, Kind.QR_SCAN):
        return True
    return candidate.kind == Kind.ATTACHMENT and candidate.source in attachments.MIMETYPES


def confirmed(candidate: Candidate, signals: Signals) -> bool:
    window = datetime.timedelta(seconds=settings.TRACKING_CONFIRM_WINDOW_SECONDS)
    return any(
        candidate.at <= confirmed_at <= candidate.at + window
        for confirmed_at in signals.confirmations.get(candidate.delivery_id, ())
    )


def store_verdicts(verdicts: dict[int, list[str]]) -> None:
    """One UPDATE per distinct verdict: a batch has a handful of distinct reason lists, not one per hit."""
    groups = defaultdict(list)
    for pk, reasons in verdicts.items():
        groups[tuple(reasons)].append(pk)
    for reasons, ids in groups.items():
        Event.objects.filter(pk__in=ids).update(automated=bool(reasons), reasons=list(reasons))


def set_first_times(human_events: Iterable[Candidate]) -> None:
    """Each delivery's first human failure of each kind: set when empty, moved only to an earlier time.

    One UPDATE per delivery; ``LEAST(COALESCE(field, t), t)`` makes it conditional in the database, so a
    later batch (or a concurrent one) can never move a first time later.
    """
    earliest: dict[int, dict[str, datetime.datetime]] = defaultdict(dict)
    for event in human_events:
        field = FIRST_TIME_FIELDS.get(event.kind)
        if field is None:
            continue
        current = earliest[event.delivery_id].get(field)
        if current is None or event.at < current:
            earliest[event.delivery_id][field] = event.at
    for delivery_id, fields in earliest.items():
        Delivery.objects.filter(pk=delivery_id).update(
            **{field: Least(Coalesce(F(field), as_time(at)), as_time(at)) for field, at in fields.items()}
        )


def as_time(at: datetime.datetime) -> Value:
    return Value(at, output_field=DateTimeField())
