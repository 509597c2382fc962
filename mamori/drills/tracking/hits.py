"""Recording one hit on a drill link: one indexed token lookup, one INSERT, nothing else.

The lookup joins the delivery to its campaign (state), scenario (lure type) and organization (address
policy) by primary key; it never reads the campaign's other deliveries or events, so a hit costs the same
in a campaign of 100 as of 100,000. Both statements are plain SQL written once from the models' metadata:
building them through the ORM on every hit cost more than running them (docs/decisions/0003).

A token that is not the shape of ours is answered without touching the database; an unknown token and
the token of a campaign that is not sending or running find no row in the same query, so neither can be
told apart from the other, and nothing is inserted for them.

On PostgreSQL both statements are prepared once per connection (``statement_cursor``): planning the
four-table lookup cost the database several times what running it does.
"""

import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.utils import timezone

from mamori.core.models import Organization
from mamori.drills.models import Campaign, Delivery, Event, Scenario
from mamori.drills.tracking.addresses import in_networks, parse_address, stored_form
from mamori.drills.tracking.reasons import Reason

# ``new_delivery_token``: 16 random bytes, URL-safe base64 without padding.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
# Hits are recorded while a campaign's mail is out: not before (draft, scheduled — nothing was sent) and
# not after (closed, cancelled — its figures are final).
RECORDING_STATES = (Campaign.State.SENDING, Campaign.State.RUNNING)
USER_AGENT_LENGTH = Event._meta.get_field("user_agent").max_length
JSON_FIELD = Event._meta.get_field("reasons")
# What the hit path writes; ``automated`` and ``classified_at`` stay NULL until the classifier runs.
EVENT_COLUMNS = (
    "organization",
    "delivery",
    "kind",
    "at",
    "source",
    "user_agent",
    "client_address",
    "filled_fields",
    "reasons",
)


@dataclass(frozen=True)
class Hit:
    """The delivery a recorded hit belongs to, and what the endpoint needs to answer it."""

    delivery_id: int
    organization_id: int
    scenario_id: int
    lure_type: str
    attachment_mode: str
    token: str


def is_well_formed(token: str) -> bool:
    return TOKEN.fullmatch(token) is not None


def record_hit(
    token: str,
    kind: str,
    *,
    source: str,
    user_agent: str,
    client_address: str,
    filled_fields: Iterable[str] = (),
) -> Hit | None:
    """Store one Event for the delivery of ``token``; None (and nothing stored) for a token we do not serve.

    ``client_address`` is the address as the request came (``mamori.core.audit.client_address``); what is
    stored of it follows the organization's ``event_address_policy``. ``filled_fields`` are the names of the
    filled form fields of a credential-form submit, never their values.
    """
    if not is_well_formed(token):
        return None
    # The thread's connection, looked up once: every attribute read through ``django.db.connection`` is
    # another lookup, and they added up to a sixth of a hit.
    db = connections[DEFAULT_DB_ALIAS]
    row = find_delivery(db, token)
    if row is None:
        return None
    delivery_id, organization_id, scenario_id, lure_type, attachment_mode, address_policy = row
    address = parse_address(client_address)
    # Judged here because only the hit sees the full address: the privacy setting may store less or nothing.
    reasons = [Reason.SCANNER_ADDRESS.value] if in_networks(address, settings.TRACKING_SCANNER_NETWORKS) else []
    insert_event(
        db,
        organization=organization_id,
        delivery=delivery_id,
        kind=kind,
        source=source,
        user_agent=user_agent[:USER_AGENT_LENGTH],
        client_address=stored_form(address, address_policy),
        filled_fields=list(filled_fields),
        reasons=reasons,
    )
    return Hit(delivery_id, organization_id, scenario_id, lure_type, attachment_mode, token)


@functools.cache
def lookup_sql() -> str:
    """The lookup; the recording states are our own constants, written into the statement."""
    delivery, campaign = Delivery._meta, Campaign._meta
    scenario, organization = Scenario._meta, Organization._meta
    states = ", ".join(f"'{state.value}'" for state in RECORDING_STATES)
    return (
        f"SELECT d.id, d.organization_id, d.scenario_id, s.lure_type, s.attachment_mode, o.event_address_policy "  # noqa: S608 — model metadata only
        f"FROM {delivery.db_table} d "
        f"JOIN {campaign.db_table} c ON c.id = d.campaign_id "
        f"JOIN {scenario.db_table} s ON s.id = d.scenario_id "
        f"JOIN {organization.db_table} o ON o.id = d.organization_id "
        f"WHERE d.token = %s AND c.state IN ({states})"
    )


def find_delivery(db, token: str) -> tuple | None:
    """The delivery's row (by the unique token index), or None.

    A connection the database dropped (restart, idle timeout) fails here, before anything was written:
    the lookup is then run once more on a new connection. This is what lets the lean path skip Django's
    per-request health check (a ``SELECT 1`` round trip on every hit).
    """
    try:
        return fetch_one(db, lookup_sql(), [token])
    except (InterfaceError, OperationalError):
        if db.in_atomic_block:
            raise
        db.close()
        return fetch_one(db, lookup_sql(), [token])


def fetch_one(db, sql: str, parameters: list) -> tuple | None:
    with statement_cursor(db) as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchone()


class PreparedCursor(psycopg.Cursor):
    """Binds parameters server-side and prepares each statement on its first use on the connection."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


def statement_cursor(db):
    """A cursor for the hit path's two statements, wrapped by Django (errors, query logging, test counts).

    Django's PostgreSQL cursors bind parameters client-side and never prepare, so every hit would have the
    lookup planned again. On PostgreSQL (unless ``TRACKING_PREPARED_STATEMENTS`` is off, e.g. behind a
    transaction-pooling PgBouncer older than 1.21) the statements run on a ``PreparedCursor`` over Django's
    own connection instead; psycopg keeps the prepared statements per connection.
    """
    if db.vendor != "postgresql" or not settings.TRACKING_PREPARED_STATEMENTS:
        return db.cursor()
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        # Django turns psycopg's preparing off (None) for poolers' sake, which refuses even an explicit
        # prepare=True. A threshold beyond reach allows ours and still prepares nothing automatically.
        db.connection.prepare_threshold = sys.maxsize
    cursor = PreparedCursor(db.connection)
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


@functools.cache
def event_insert_sql(*, asynchronous: bool) -> str:
    """The INSERT; ``asynchronous``: committed without waiting for the WAL flush, in one statement.

    ``set_config(…, true)`` changes ``synchronous_commit`` for the current transaction only, which for a
    statement in autocommit mode is the statement itself: the connection's setting is untouched, and no
    BEGIN/SET LOCAL/COMMIT round trips are added. What a crash of the database server can lose is written
    in docs/decisions/0003-tracking-hot-path.md.
    """
    columns = ", ".join(Event._meta.get_field(name).column for name in EVENT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
    table = Event._meta.db_table
    if asynchronous:
        return (
            f"INSERT INTO {table} ({columns}) SELECT {placeholders} "
            "WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
        )
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 — model metadata only


def insert_event(db, *, reasons: list[str], filled_fields: list[str], **values) -> None:
    """One INSERT of the ``EVENT_COLUMNS``."""
    values["at"] = db.ops.adapt_datetimefield_value(timezone.now())
    values["filled_fields"] = JSON_FIELD.get_db_prep_save(filled_fields, db)
    values["reasons"] = JSON_FIELD.get_db_prep_save(reasons, db)
    asynchronous = db.vendor == "postgresql" and settings.TRACKING_ASYNCHRONOUS_COMMIT
    with statement_cursor(db) as cursor:
        cursor.execute(event_insert_sql(asynchronous=asynchronous), [values[name] for name in EVENT_COLUMNS])
