"""Dashboard speed: the ward dashboard and the joint view over 23 wards × 10,000 staff × 4 rounds.

1. Creates its own database (PostgreSQL by default; dropped and re-created each run, dropped at the end
   unless ``--keep``) and migrates it.
2. Generates ``--wards`` wards of ``--staff`` people with ``--rounds`` drills each in the last fiscal year,
   through the project's models with bulk_create (``mamori.metrics.synthetic``): ≈ 0.9M deliveries and
   several million events at the default size. Timed.
3. Refreshes the rollups with the metrics app's own functions (per campaign, then per ward and fiscal
   year), as the worker would. Timed.
4. In the same run: the ward dashboard page and the joint view page through Django's test client (logged
   in, MFA passed), the median of ``--runs`` requests each after one warm-up, with the number of queries
   each page makes; and, as the baseline, a plain ``SELECT COUNT(*)`` over the events table (median of the
   same number of runs).

``--keep`` leaves the database in place and ``--reuse`` measures such a kept database again without
generating (steps 3 and 4 only). The last line is one JSON object with the figures, the baseline and the
targets.
"""

import argparse
import datetime
import json
import statistics
import time

from _setup import add_database_argument, drop_database, manage, reset_database, setup_django

TARGET_WARD_MS = 300
TARGET_JOINT_MS = 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser, "mamori_bench_dashboard")
    parser.add_argument("--wards", type=int, default=23)
    parser.add_argument("--staff", type=int, default=10_000, help="people per ward")
    parser.add_argument("--rounds", type=int, default=4, help="drill rounds per ward in the fiscal year")
    parser.add_argument("--runs", type=int, default=9, help="timed requests per page (the median is reported)")
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database kept by an earlier --keep run (no generation)"
    )
    return parser.parse_args()


def generate(args) -> tuple[object, float, int]:
    """The synthetic wards; returns the totals, the seconds it took and the fiscal year used."""
    from mamori.drills.fiscal import current_fiscal_year
    from mamori.metrics.synthetic import generate_wards

    fiscal_year = current_fiscal_year() - 1
    started = time.perf_counter()

    def progress(number, totals) -> None:
        elapsed = time.perf_counter() - started
        print(
            f"  ward {number}/{args.wards}: {totals.deliveries:,} deliveries, {totals.events:,} events "
            f"({elapsed:.0f} s)",
            flush=True,
        )

    totals = generate_wards(
        wards=args.wards,
        staff=args.staff,
        rounds=args.rounds,
        fiscal_year=fiscal_year,
        code_prefix="bench",
        name_prefix="ベンチ",
        progress=progress,
    )
    return totals, time.perf_counter() - started, fiscal_year


def existing() -> tuple[object, float | None, int]:
    """The totals of a kept database (``--reuse``): what an earlier run generated."""
    from mamori.core.models import Organization, Person
    from mamori.drills.models import Campaign, Delivery, Event
    from mamori.learning.models import Assignment
    from mamori.metrics.synthetic import Totals

    campaigns = Campaign.objects.all()
    totals = Totals(
        wards=Organization.objects.filter(kind=Organization.Kind.WARD).count(),
        people=Person.objects.count(),
        campaigns=campaigns.count(),
        deliveries=Delivery.objects.count(),
        events=Event.objects.count(),
        assignments=Assignment.objects.count(),
        campaign_ids=list(campaigns.values_list("pk", flat=True)),
    )
    fiscal_year = campaigns.values_list("fiscal_year", flat=True).first()
    return totals, None, fiscal_year


def load_pages() -> int:
    """Import every view now: files edited while the run generates data cannot break its measurements."""
    from django.urls import get_resolver

    return len(get_resolver().url_patterns)


def analyse() -> None:
    """Fresh planner statistics, as autovacuum would have gathered them on a live system."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def refresh_rollups(campaign_ids: list[int]) -> tuple[float, float]:
    """Every campaign's rollup, then every ward's fiscal-year rollup; the seconds each step took."""
    from mamori.drills.models import Campaign
    from mamori.metrics import rollups

    campaigns = list(Campaign.objects.filter(pk__in=campaign_ids).select_related("organization"))
    started = time.perf_counter()
    for campaign in campaigns:
        rollups.refresh_campaign(campaign)
    campaign_seconds = time.perf_counter() - started
    started = time.perf_counter()
    years = {(campaign.organization_id, campaign.fiscal_year): campaign.organization for campaign in campaigns}
    for (_id, fiscal_year), organization in years.items():
        rollups.refresh_organization(organization, fiscal_year)
    return campaign_seconds, time.perf_counter() - started


def logged_in_client():
    """A test client of a user who is security_admin and joint_admin of the first ward, MFA passed."""
    from django.test import Client
    from django.utils import timezone

    from mamori.accounts.mfa import SESSION_MFA_KEY
    from mamori.accounts.models import User
    from mamori.core.models import Membership, Organization

    ward = Organization.objects.filter(kind=Organization.Kind.WARD).order_by("code").first()
    user, _created = User.objects.get_or_create(
        username="bench-admin", defaults={"email": "bench-admin@bench.example.jp"}
    )
    for role in (Membership.Role.SECURITY_ADMIN, Membership.Role.JOINT_ADMIN):
        Membership.objects.get_or_create(user=user, organization=ward, role=role)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[SESSION_MFA_KEY] = timezone.now().isoformat()
    session.save()
    return client


def time_page(client, url: str, runs: int) -> dict:
    """Median and spread of ``runs`` GETs after a warm-up; the queries of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    # Counted now: the next request clears the connection's query log the context reads from.
    query_count = len(queries)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return {
        "median_ms": statistics.median(timings),
        "min_ms": min(timings),
        "max_ms": max(timings),
        "queries": query_count,
        "bytes": len(response.content),
    }


def time_count(runs: int) -> tuple[float, int]:
    """The baseline: a plain COUNT(*) over the events table, median of ``runs``."""
    from django.db import connection

    timings, count = [], 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM drills_event")  # warm-up: the table into the cache
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute("SELECT COUNT(*) FROM drills_event")
            count = cursor.fetchone()[0]
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), count


def main() -> None:
    args = parse_args()
    if not args.reuse:
        reset_database(args.database_url)
        manage(args.database_url, "migrate", "-v", "0")
    setup_django(args.database_url)
    load_pages()
    try:
        if args.reuse:
            totals, generate_seconds, fiscal_year = existing()
            print(f"reusing {totals.deliveries:,} deliveries, {totals.events:,} events", flush=True)
        else:
            print(f"generating {args.wards} wards × {args.staff:,} staff × {args.rounds} rounds …", flush=True)
            totals, generate_seconds, fiscal_year = generate(args)
            print(
                f"generated {totals.people:,} people, {totals.deliveries:,} deliveries, {totals.events:,} events, "
                f"{totals.assignments:,} learning assignments in {generate_seconds:.0f} s",
                flush=True,
            )
        analyse()
        campaign_seconds, organization_seconds = refresh_rollups(totals.campaign_ids)
        print(
            f"rollups refreshed: {totals.campaigns} campaigns in {campaign_seconds:.1f} s "
            f"({campaign_seconds / max(totals.campaigns, 1) * 1000:.0f} ms each), "
            f"{totals.wards} ward fiscal years in {organization_seconds:.1f} s",
            flush=True,
        )
        analyse()
        client = logged_in_client()
        ward = time_page(client, f"/metrics/?fy={fiscal_year}", args.runs)
        print(f"ward dashboard: {ward['median_ms']:.1f} ms median ({ward['queries']} queries)", flush=True)
        joint = time_page(client, f"/metrics/joint/?fy={fiscal_year}", args.runs)
        print(f"joint view: {joint['median_ms']:.1f} ms median ({joint['queries']} queries)", flush=True)
        count_ms, events = time_count(args.runs)
        print(f"baseline SELECT COUNT(*) over {events:,} events: {count_ms:.1f} ms", flush=True)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
    result = {
        "ward_dashboard_ms": round(ward["median_ms"], 1),
        "joint_view_ms": round(joint["median_ms"], 1),
        "count_events_ms": round(count_ms, 1),
        "ward_vs_count": round(ward["median_ms"] / count_ms, 3),
        "joint_vs_count": round(joint["median_ms"] / count_ms, 3),
        "queries_ward": ward["queries"],
        "queries_joint": joint["queries"],
        "events": events,
        "deliveries": totals.deliveries,
        "people": totals.people,
        "wards": totals.wards,
        "campaigns": totals.campaigns,
        "generate_s": round(generate_seconds, 1) if generate_seconds is not None else None,
        "rollup_campaigns_s": round(campaign_seconds, 1),
        "rollup_fiscal_years_s": round(organization_seconds, 1),
        "fiscal_year": fiscal_year,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "targets": {"ward_dashboard_ms": TARGET_WARD_MS, "joint_view_ms": TARGET_JOINT_MS},
        "met": ward["median_ms"] < TARGET_WARD_MS and joint["median_ms"] < TARGET_JOINT_MS,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
