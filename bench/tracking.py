"""Drill-link hits per second: the click endpoint under wrk, against a bare WSGI app doing the same work.

1. Creates its own database (PostgreSQL by default; dropped and re-created each run), migrates it, and
   creates two running campaigns of ``--small`` and ``--large`` sent deliveries (COPY, as a launch does).
2. Serves mamori with ``mamori serve`` (granian, ``--workers`` processes × ``--threads`` threads).
3. Loads ``/c/<token>`` with wrk (installed with apt if missing) at ``--connections`` connections, each
   request a random valid token of the campaign (a Lua script), for ``--seconds`` seconds, ``--rounds``
   times per campaign alternating small and large, after an unmeasured warm-up run of each and with the
   events table vacuumed before each run: hits/s and p99, the medians of the rounds.
4. Baseline, same run: this file's ``baseline_application``, a bare WSGI app (psycopg, no framework) doing
   the same database work — the token lookup joining campaign, scenario and organization, and the event
   insert — under granian with the same workers and threads, loaded the same way.
5. Checks that every hit is stored: after each wrk run, events stored = responses wrk received plus the
   requests still in flight when it stopped (at most one per connection; the server finishes them), and a
   closed-loop client then sends an exact number of hits and counts exactly that many new events.

The last line is one JSON object with the figures, the baseline, the ratio and the targets.
"""

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

from _setup import ROOT, free_port, libpq_url, mamori_environment, manage, reset_database, setup_django

BENCH = Path(__file__).resolve().parent
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
TARGET_SIZE_DRIFT = 0.10
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args)
  math.randomseed(os.time() * 100 + seed)
end
wrk.headers["User-Agent"] = "%(agent)s"
request = function()
  return wrk.format("GET", "/c/" .. tokens[math.random(#tokens)])
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50_us": %%d, "p99_us": %%d, "errors": %%d, "non_2xx_3xx": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/mamori_bench_tracking",
        help="database to create for the run (dropped first); sqlite:///path works too (the baseline needs PostgreSQL)",
    )
    parser.add_argument("--small", type=int, default=1_000, help="deliveries of the first campaign")
    parser.add_argument("--large", type=int, default=100_000, help="deliveries of the second campaign")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="granian threads per worker (both servers)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per campaign and server, alternating")
    parser.add_argument("--warm-up-seconds", type=int, default=3, help="unmeasured wrk run per campaign first")
    parser.add_argument("--exact-hits", type=int, default=2_000, help="hits of the exact stored-events check")
    return parser.parse_args()


# --- the bare baseline, imported by granian's workers ------------------------------------------------

_baseline = threading.local()
BASELINE_LOOKUP = (
    "SELECT d.id, d.organization_id, s.lure_type, o.event_address_policy FROM drills_delivery d "
    "JOIN drills_campaign c ON c.id = d.campaign_id JOIN drills_scenario s ON s.id = d.scenario_id "
    "JOIN core_organization o ON o.id = d.organization_id WHERE d.token = %s AND c.state IN ('sending', 'running')"
)
# Committed as mamori commits a hit (TRACKING_ASYNCHRONOUS_COMMIT, on by default): the same database work.
BASELINE_INSERT = (
    "INSERT INTO drills_event (organization_id, delivery_id, kind, at, source, user_agent, client_address, "
    "filled_fields, reasons) SELECT %s, %s, 'click', now(), 'url', %s, %s, '[]', '[]' "
    "WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
)


def baseline_application(environ, start_response):
    """The same database work as a click, with nothing around it: psycopg, one connection per thread."""
    import psycopg

    connection = getattr(_baseline, "connection", None)
    if connection is None:
        connection = _baseline.connection = psycopg.connect(os.environ["BENCH_BASELINE_DSN"], autocommit=True)
    token = environ["PATH_INFO"][3:]
    row = connection.execute(BASELINE_LOOKUP, (token,)).fetchone()
    if row is None:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    delivery_id, organization_id, _lure_type, _policy = row
    address = environ.get("REMOTE_ADDR", "").rsplit(".", 1)[0] + ".0"
    user_agent = environ.get("HTTP_USER_AGENT", "")[:400]
    connection.execute(BASELINE_INSERT, (organization_id, delivery_id, user_agent, address))
    start_response("302 Found", [("Location", f"/l/{token}/"), ("Content-Length", "0")])
    return [b""]


# --- setting up ---------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("installing wrk …", flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=environment)
    return shutil.which("wrk") or "wrk"


def make_running_campaign(size: int, round_number: int) -> list[str]:
    """A running campaign of ``size`` sent deliveries; returns their tokens."""
    import datetime

    from django.utils import timezone

    from mamori.core.models import Department, Organization, Person, VerifiedDomain
    from mamori.drills.actions.campaigns import insert_deliveries
    from mamori.drills.models import Campaign, Delivery, Scenario, SendingProfile

    organization, created = Organization.objects.get_or_create(code="bench-ward", defaults={"name": "ベンチ区"})
    if created:
        VerifiedDomain.objects.create(organization=organization, domain="bench.lg.jp", verified_at=timezone.now())
    department, _ = Department.objects.get_or_create(
        organization=organization, path="総務部/情報政策課", defaults={"name": "情報政策課", "depth": 1}
    )
    prefix = f"r{round_number}-"
    Person.objects.bulk_create(
        (
            Person(
                organization=organization,
                employee_number=f"{prefix}{number:06d}",
                name=f"区役所 職員{number}",
                email=f"{prefix}{number}@bench.lg.jp",
                department=department,
            )
            for number in range(size)
        ),
        batch_size=5000,
    )
    profile, _ = SendingProfile.objects.get_or_create(
        organization=organization, name="bench", defaults={"host": "127.0.0.1", "port": 25, "security": "none"}
    )
    scenario = Scenario.objects.get(organization__isnull=True, library_key="soumu-tsutatsu")
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        organization=organization,
        fiscal_year=today.year,
        round_number=round_number,
        starts_on=today,
        ends_on=today,
        sending_profile=profile,
        state=Campaign.State.RUNNING,
    )
    campaign.scenarios.set([scenario])
    sent = timezone.now() - datetime.timedelta(hours=1)
    # A list, not an iterator: on PostgreSQL the rows are streamed with COPY over the same connection.
    people = list(
        Person.objects.filter(organization=organization, employee_number__startswith=prefix).values_list("pk", "email")
    )
    insert_deliveries(campaign, ((person_id, scenario.pk, email, sent) for person_id, email in people))
    campaign.deliveries.update(state=Delivery.State.SENT, sent_at=sent)
    return list(campaign.deliveries.values_list("token", flat=True))


def event_count() -> int:
    from mamori.drills.models import Event

    return Event.objects.count()


# --- serving and loading ------------------------------------------------------------------------------


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_mamori(url: str, data_dir: Path, port: int, args) -> subprocess.Popen:
    command = [sys.executable, "-m", "mamori", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers), "--threads", str(args.threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=mamori_environment(url, data_dir), stdout=subprocess.DEVNULL)
    wait_for_port(port, server)
    return server


def start_baseline(url: str, port: int, args) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-baseline", str(port), str(args.workers), str(args.threads)],
        env={**os.environ, "BENCH_BASELINE_DSN": libpq_url(url)},
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, server)
    return server


def serve_baseline(port: int, workers: int, threads: int) -> None:
    """Granian with the settings ``mamori serve`` uses, around ``baseline_application``."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "tracking:baseline_application",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        respawn_failed_workers=True,
        working_dir=BENCH,
    ).serve()


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(5)


def warm_up(port: int, tokens: list[str], count: int = 200) -> None:
    """Every worker and thread opens its database connection before the clock starts."""
    hits(port, random.sample(tokens, min(count, len(tokens))), parallel=16)


def hits(port: int, tokens: list[str], *, parallel: int) -> int:
    """Send one click per token over ``parallel`` keep-alive connections; the number of redirects received."""
    chunks = [tokens[index::parallel] for index in range(parallel)]

    def send(chunk: list[str]) -> int:
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        redirects = 0
        for token in chunk:
            connection.request("GET", f"/c/{token}", headers={"User-Agent": BROWSER})
            response = connection.getresponse()
            response.read()
            redirects += response.status == 302
        connection.close()
        return redirects

    with ThreadPoolExecutor(parallel) as pool:
        return sum(pool.map(send, chunks))


def wrk_run(wrk: str, port: int, tokens: list[str], args, workdir: Path, seconds: int) -> dict:
    token_file = workdir / f"tokens-{len(tokens)}.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    script = workdir / "clicks.lua"
    script.write_text(WRK_SCRIPT % {"tokens": token_file, "agent": BROWSER})
    command = [wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    output = subprocess.run(
        [*command, "-s", str(script), f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def vacuum_events() -> None:
    """Every run starts from a vacuumed, analysed events table: autovacuum then rarely runs mid-measure."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) drills_event")


def run_wrk(wrk: str, port: int, tokens: list[str], args, workdir: Path) -> dict:
    vacuum_events()
    before = event_count()
    result = wrk_run(wrk, port, tokens, args, workdir, args.seconds)
    stored = settled_event_count(before)
    result["hits_per_s"] = result["requests"] / result["seconds"]
    result["p99_ms"] = result["p99_us"] / 1000
    result["events_stored"] = stored
    # wrk stops with up to one request in flight per connection; the server completes and records those.
    result["in_flight_at_stop"] = stored - result["requests"]
    result["every_hit_stored"] = (
        0 <= stored - result["requests"] <= args.connections and not result["errors"] and not result["non_2xx_3xx"]
    )
    return result


def settled_event_count(before: int) -> int:
    """New events once the server has finished the requests in flight."""
    count, previous = event_count(), -1
    while count != previous:
        time.sleep(0.5)
        previous, count = count, event_count()
    return count - before


def exact_check(port: int, tokens: list[str], count: int) -> dict:
    before = event_count()
    redirects = hits(port, random.choices(tokens, k=count), parallel=16)
    stored = settled_event_count(before)
    return {"hits_sent": count, "redirects": redirects, "events_stored": stored, "equal": stored == redirects == count}


def measure(wrk: str, port: int, campaigns: dict[str, list[str]], args, workdir: Path, label: str) -> dict:
    """Each campaign ``--rounds`` times, alternating, so that a change in the machine's load hits them alike.

    Rates and p99 are the medians of the rounds (a burst of other work on the machine spoils one round, not
    the figure); every round must have stored every hit.
    """
    rounds: dict[str, list[dict]] = {name: [] for name in campaigns}
    for tokens in campaigns.values():
        warm_up(port, tokens)
        wrk_run(wrk, port, tokens, args, workdir, args.warm_up_seconds)
    for _round in range(args.rounds):
        for name, tokens in campaigns.items():
            warm_up(port, tokens)
            result = run_wrk(wrk, port, tokens, args, workdir)
            print(describe(f"{label}, {len(tokens):,} deliveries", result), flush=True)
            rounds[name].append(result)
    return {
        name: {
            "hits_per_s": statistics.median(result["hits_per_s"] for result in results),
            "p99_ms": statistics.median(result["p99_ms"] for result in results),
            "every_hit_stored": all(result["every_hit_stored"] for result in results),
        }
        for name, results in rounds.items()
    }


def describe(label: str, result: dict) -> str:
    return (
        f"{label}: {result['hits_per_s']:,.0f} hits/s, p50 {result['p50_us'] / 1000:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, {result['requests']:,} responses, {result['events_stored']:,} events "
        f"({result['in_flight_at_stop']} in flight at stop), errors {result['errors']}/{result['non_2xx_3xx']}"
    )


def main() -> None:
    args = parse_args()
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-tracking-"))
    data_dir = workdir / "data"
    reset_database(args.database_url)
    manage(args.database_url, "migrate", "-v", "0", data_dir=data_dir)
    manage(args.database_url, "collectstatic", "--noinput", "-v", "0", data_dir=data_dir)
    setup_django(args.database_url, data_dir)
    started = time.perf_counter()
    small = make_running_campaign(args.small, round_number=1)
    print(f"campaign of {len(small):,} deliveries created in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    large = make_running_campaign(args.large, round_number=2)
    print(f"campaign of {len(large):,} deliveries created in {time.perf_counter() - started:.1f} s", flush=True)
    settings = f"{args.workers} workers × {args.threads} threads, wrk {args.connections} connections"

    port = free_port()
    server = start_mamori(args.database_url, data_dir, port, args)
    try:
        mamori = measure(wrk, port, {"small": small, "large": large}, args, workdir, f"mamori, {settings}")
        exact = exact_check(port, large, args.exact_hits)
        print(f"exact check: {exact}", flush=True)
    finally:
        stop(server)
    port = free_port()
    server = start_baseline(args.database_url, port, args)
    try:
        baseline = measure(wrk, port, {"small": small, "large": large}, args, workdir, f"bare WSGI, {settings}")
    finally:
        stop(server)
    shutil.rmtree(workdir, ignore_errors=True)

    ratio = mamori["small"]["hits_per_s"] / baseline["small"]["hits_per_s"]
    drift = mamori["large"]["hits_per_s"] / mamori["small"]["hits_per_s"] - 1
    baseline_drift = baseline["large"]["hits_per_s"] / baseline["small"]["hits_per_s"] - 1
    p99 = max(mamori["small"]["p99_ms"], mamori["large"]["p99_ms"])
    stored = mamori["small"]["every_hit_stored"] and mamori["large"]["every_hit_stored"] and exact["equal"]
    print(
        f"ratio to the bare baseline: {ratio:.0%}; {len(large):,} vs {len(small):,} deliveries: {drift:+.1%} "
        f"(bare baseline: {baseline_drift:+.1%})"
    )
    result = {
        "hits_per_s": round(mamori["small"]["hits_per_s"], 1),
        "p99_ms": round(mamori["small"]["p99_ms"], 2),
        "hits_per_s_large": round(mamori["large"]["hits_per_s"], 1),
        "p99_ms_large": round(mamori["large"]["p99_ms"], 2),
        "baseline": round(baseline["small"]["hits_per_s"], 1),
        "baseline_p99_ms": round(baseline["small"]["p99_ms"], 2),
        "baseline_large": round(baseline["large"]["hits_per_s"], 1),
        "ratio": round(ratio, 3),
        "large_vs_small": round(drift, 3),
        "baseline_large_vs_small": round(baseline_drift, 3),
        "deliveries": [len(small), len(large)],
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "every_hit_stored": stored,
        "exact_check": exact,
        "targets": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS, "large_vs_small": TARGET_SIZE_DRIFT},
        "met": ratio >= TARGET_RATIO and p99 < TARGET_P99_MS and abs(drift) <= TARGET_SIZE_DRIFT and stored,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-baseline"]:
        serve_baseline(*(int(value) for value in sys.argv[2:5]))
    else:
        main()
