"""Reported mails per second end to end: a real Dovecot → the report-mailbox poller → reports, thanks by SMTP.

1. Creates its own database (PostgreSQL by default; dropped and re-created each run) and migrates it.
2. Starts a private Dovecot on a free loopback port (``mamori.reporting.tests.dovecot``; installs
   ``dovecot-imapd`` when missing, never starts the system service) and Postfix's ``smtp-sink`` for the
   thanks mails (installs ``postfix`` when missing, without its daemon).
3. A ward with ``--staff`` people and a running drill; ``--mails`` reports APPENDed to the report mailbox:
   half drills forwarded by their recipients (a tenth by a colleague instead, some through Safe Links),
   half real phish in campaigns of 30 reporters each; Outlook, Thunderbird and Gmail forwards, inline and
   as attachment, ISO-2022-JP originals (``mamori.reporting.tests.fixtures.forwards``).
4. Timed: the worker's handler (``poll_due_mailboxes``) until the mailbox is empty — fetch, store, parse,
   match, cluster, thank by SMTP, move to the processed folder — one worker, as in production (one
   worker holds a mailbox at a time).
5. Checks: a report per mail, every drill matched its delivery, the recipients' reports set
   ``Delivery.reported_at``, the INBOX is empty and the processed folder holds every mail.
6. Baseline, same server, same mails: fetching them all over IMAP in the poller's batches, nothing else.

The last line is one JSON object with the figure, the time inside ingestion, the baseline and the
target.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

from _setup import ROOT, add_database_argument, free_port, manage, reset_database, setup_django

sys.path.insert(0, str(ROOT))

TARGET_MAILS_PER_SECOND = 50
REPORT_ADDRESS = "report@bench.lg.jp"
REPORT_PASSWORD = "bench-report-pass"  # noqa: S105 (the private test server's password)
CLUSTER_SIZE = 30
# What the poller calls to ingest: storing a group's originals, then processing each (parse, match,
# cluster, thank), or the whole of ingest_message for a message stored on its own.
INGESTION_STEPS = ("store_originals", "process_report", "ingest_message")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser, "mamori_bench_ingest_imap")
    parser.add_argument("--mails", type=int, default=1_200, help="reports delivered to the mailbox")
    parser.add_argument("--staff", type=int, default=2_000, help="people in the roster")
    return parser.parse_args()


def smtp_settings(smtp_port: int) -> dict[str, str]:
    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}


def start_smtp_sink(port: int) -> subprocess.Popen:
    sink = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    if not sink:
        print("installing postfix for smtp-sink (the daemon is not started) …", flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"}
        subprocess.run(["apt-get", "install", "-y", "-q", "postfix"], check=True, env=environment)
        sink = shutil.which("smtp-sink", path="/usr/sbin")
    process = subprocess.Popen([sink, "-u", "nobody", f"127.0.0.1:{port}", "256"])
    time.sleep(0.3)
    return process


def prepare_django(url: str, smtp_port: int) -> None:
    manage(url, "migrate", "-v", "0", **smtp_settings(smtp_port))
    setup_django(url, **smtp_settings(smtp_port))


def make_ward(staff: int, dovecot):
    """The ward, its roster, a drill sent to everyone an hour ago, and its report mailbox on Dovecot."""
    from django.utils import timezone

    from mamori.core.models import Department, Organization, Person, VerifiedDomain
    from mamori.drills.models import Campaign, Delivery, Scenario, SendingProfile
    from mamori.reporting.models import ReportMailbox

    organization = Organization.objects.create(code="bench-ward", name="ベンチ区")
    VerifiedDomain.objects.create(organization=organization, domain="bench.lg.jp", verified_at=timezone.now())
    department = Department.objects.create(organization=organization, path="総務部", name="総務部", depth=0)
    Person.objects.bulk_create(
        Person(
            organization=organization,
            employee_number=f"E{number:06d}",
            name=f"区役所 職員{number}",
            email=f"staff{number}@bench.lg.jp",
            department=department,
        )
        for number in range(staff)
    )
    profile = SendingProfile.objects.create(
        organization=organization, name="庁内SMTP", host="127.0.0.1", port=25, security="none"
    )
    scenario = Scenario.objects.filter(organization__isnull=True).first()
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        organization=organization,
        fiscal_year=today.year,
        round_number=1,
        starts_on=today,
        ends_on=today,
        sending_profile=profile,
        state=Campaign.State.RUNNING,
    )
    campaign.scenarios.set([scenario])
    sent_at = timezone.now() - datetime.timedelta(hours=1)
    Delivery.objects.bulk_create(
        Delivery(
            organization=organization,
            campaign=campaign,
            person=person,
            scenario=scenario,
            email=person.email,
            scheduled_at=sent_at,
            sent_at=sent_at,
            state=Delivery.State.SENT,
        )
        for person in Person.objects.filter(organization=organization)
    )
    mailbox = ReportMailbox(
        organization=organization,
        host=dovecot.host,
        port=dovecot.port,
        security=ReportMailbox.Security.NONE,
        username=REPORT_ADDRESS,
        processed_folder="処理済み",
        error_folder="要確認",
    )
    mailbox.password = REPORT_PASSWORD
    mailbox.save()
    return organization, mailbox


def report_mix(organization, count: int) -> tuple[list[bytes], int, int]:
    """The mails to deliver, how many are drills, and how many of those come from their own recipient."""
    from mamori.drills.links import click_url
    from mamori.drills.models import Delivery
    from mamori.reporting.tests.fixtures import forwards

    deliveries = list(Delivery.objects.filter(organization=organization).order_by("pk")[: count // 2])
    mails, by_recipient = [], 0
    for number, delivery in enumerate(deliveries):
        url = click_url(delivery.token)
        drill = forwards.drill_mail(recipient=delivery.email, url=forwards.safelinks(url) if number % 4 == 3 else url)
        colleague = number % 10 == 9
        reporter = deliveries[number - 1].email if colleague else delivery.email
        by_recipient += not colleague
        mails.append(
            forwards.forward(
                drill,
                client=forwards.CLIENTS[number % 3],
                inline=number % 2 == 0,
                reporter=reporter,
                report_address=REPORT_ADDRESS,
            )
        )
    drills = len(mails)
    staff = [delivery.email for delivery in Delivery.objects.filter(organization=organization).order_by("-pk")]
    campaign = 0
    while len(mails) < count:
        size = min(CLUSTER_SIZE, count - len(mails))
        reporters = staff[campaign * CLUSTER_SIZE : campaign * CLUSTER_SIZE + size]
        mails.extend(
            forwards.phish_cluster(
                reporters,
                report_address=REPORT_ADDRESS,
                url=f"https://login-check{campaign}.example.net/verify",
                subject=f"【重要】アカウント確認のお願い（受付番号 {campaign + 1:04d}）",
            )
        )
        campaign += 1
    return mails, drills, by_recipient


def deliver(dovecot, mails: list[bytes]) -> None:
    client = dovecot.client(REPORT_ADDRESS)
    try:
        for start in range(0, len(mails), 100):
            client.multiappend("INBOX", mails[start : start + 100])
    finally:
        client.logout()


def run_poller(mailbox) -> tuple[float, float, float]:
    """Seconds until the mailbox is empty, of those the seconds inside ingestion (``INGESTION_STEPS``), and CPU seconds.

    The CPU seconds are this process's own (Dovecot, PostgreSQL and smtp-sink run elsewhere): on a busy
    machine they tell what the wall-clock figure would be if the poller had a core to itself.
    """
    from mamori.reporting import mailbox as poller
    from mamori.reporting.models import ReportMailbox

    inside = 0.0
    originals = {name: getattr(poller, name) for name in INGESTION_STEPS}

    def timed(step):
        def timed_step(*args, **kwargs):
            nonlocal inside
            started = time.perf_counter()
            try:
                return step(*args, **kwargs)
            finally:
                inside += time.perf_counter() - started

        return timed_step

    for name, step in originals.items():
        setattr(poller, name, timed(step))
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        while poller.poll_due_mailboxes():
            pass
    finally:
        for name, step in originals.items():
            setattr(poller, name, step)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    last_error = ReportMailbox.objects.get(pk=mailbox.pk).last_error
    if last_error:
        raise SystemExit(f"the poller failed: {last_error}")
    return elapsed, inside, cpu


def imap_fetch_rate(dovecot, folder: str) -> float:
    """The raw rate of the same server: every message of ``folder`` fetched in the poller's batches."""
    from mamori.reporting.mailbox import BATCH_SIZE

    client = dovecot.client(REPORT_ADDRESS)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        started = time.perf_counter()
        for start in range(0, len(uids), BATCH_SIZE):
            client.fetch(uids[start : start + BATCH_SIZE], ["BODY.PEEK[]"])
        return len(uids) / (time.perf_counter() - started)
    finally:
        client.logout()


def check(organization, dovecot, mails: int, drills: int, by_recipient: int) -> dict:
    from mamori.drills.models import Delivery
    from mamori.reporting.models import Report

    reports = Report.objects.filter(organization=organization)
    found = {
        "reports": reports.count(),
        "drill_reports": reports.filter(state=Report.State.DRILL).count(),
        "reported_deliveries": Delivery.objects.filter(organization=organization, reported_at__isnull=False).count(),
        "thanked": reports.exclude(thanked_at=None).count(),
        "inbox": len(dovecot.messages(REPORT_ADDRESS, "INBOX")),
        "processed": len(dovecot.messages(REPORT_ADDRESS, "処理済み")),
    }
    expected = {
        "reports": mails,
        "drill_reports": drills,
        "reported_deliveries": by_recipient,
        "thanked": mails,
        "inbox": 0,
        "processed": mails,
    }
    if found != expected:
        raise SystemExit(f"wrong outcome: found {found}, expected {expected}")
    return found


def main() -> None:
    args = parse_args()
    from mamori.reporting.tests.dovecot import Dovecot

    reset_database(args.database_url)
    smtp_port = free_port()
    sink = start_smtp_sink(smtp_port)
    dovecot = Dovecot().start()
    try:
        prepare_django(args.database_url, smtp_port)
        dovecot.add_user(REPORT_ADDRESS, REPORT_PASSWORD)
        organization, mailbox = make_ward(args.staff, dovecot)
        mails, drills, by_recipient = report_mix(organization, args.mails)
        deliver(dovecot, mails)
        print(f"{len(mails)} reports in the mailbox ({drills} drills), polling …", flush=True)
        load_before = os.getloadavg()[0]
        elapsed, inside, cpu = run_poller(mailbox)
        found = check(organization, dovecot, len(mails), drills, by_recipient)
        rate = len(mails) / elapsed
        baseline = imap_fetch_rate(dovecot, "処理済み")
        print(f"end to end: {rate:,.0f} mails/s ({elapsed:.1f} s, {inside / elapsed:.0%} inside ingestion)")
        print(f"baseline, IMAP fetch alone: {baseline:,.0f} mails/s")
        database = urlsplit(args.database_url).scheme
        result = {
            "mails_per_second": round(rate, 1),
            "seconds": round(elapsed, 2),
            "share_inside_ingestion": round(inside / elapsed, 3),
            "poller_cpu_seconds": round(cpu, 2),
            "mails_per_poller_cpu_second": round(len(mails) / cpu, 1),
            "load_average_at_start": round(load_before, 2),
            "cores": os.cpu_count(),
            "baseline_imap_fetch_mails_per_second": round(baseline, 1),
            "mails": len(mails),
            "drills": drills,
            "database": database,
            "checks": found,
            "target_mails_per_second": TARGET_MAILS_PER_SECOND,
            "meets_target": rate >= TARGET_MAILS_PER_SECOND,
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        dovecot.stop()
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
