"""Drill sending throughput: personalised mail through `mamori worker` processes into Postfix's smtp-sink.

1. Creates its own database (PostgreSQL by default; dropped and re-created each run) and migrates it.
2. Starts ``smtp-sink`` on a free loopback port (installs the ``postfix`` package if the tool is missing,
   without starting the Postfix daemon).
3. Baseline, same sink, same run: ``smtp-source`` with one session sending messages of the same size over
   one connection (``-s 1 -d``), the raw rate of the machine's SMTP path.
4. A campaign of ``--recipients`` people (a library scenario with text and HTML, rendered per person), rate
   limit off, sent by ``--workers`` worker processes: mails/s from the first to the last ``sent_at``, and the
   workers' resident memory at 10 % and at the end of the run, and their peak.
5. A campaign with a rate limit of ``--rate`` mails/min over ``--rate-seconds`` seconds: the achieved rate.

The last line is one JSON object with the figures, the baseline, the ratio and the targets.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from _setup import ROOT, add_database_argument, free_port, mamori_environment, manage, reset_database, setup_django

SBIN = "/usr/sbin"
TARGET_MAILS_PER_S = 1000
TARGET_RATIO = 0.30
TARGET_RATE_ERROR = 0.02


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser, "mamori_bench_send")
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=int, default=600, help="rate limit of the second measurement (mails/min)")
    parser.add_argument("--rate-seconds", type=int, default=30, help="length of the rate-limited measurement")
    return parser.parse_args()


def tool(name: str) -> str:
    return shutil.which(name) or shutil.which(name, path=SBIN) or ""


def ensure_postfix_tools() -> None:
    """smtp-sink and smtp-source come with the postfix package; Debian's policy-rc.d keeps its daemon off."""
    if tool("smtp-sink") and tool("smtp-source"):
        return
    print("installing postfix for smtp-sink/smtp-source (the daemon is not started) …", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"}
    subprocess.run(["apt-get", "install", "-y", "-q", "postfix"], check=True, env=environment)


def make_campaign(port: int, recipients: int, *, round_number: int, rate: int):
    """A scheduled campaign with every delivery due now, over a profile pointing at the sink."""
    from django.utils import timezone

    from mamori.core.models import Department, Organization, Person, VerifiedDomain
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
                position="主事",
            )
            for number in range(recipients)
        ),
        batch_size=5000,
    )
    profile = SendingProfile.objects.create(
        organization=organization,
        name=f"sink-{round_number}",
        host="127.0.0.1",
        port=port,
        security="none",
        rate_per_minute=rate,
    )
    scenario = Scenario.objects.get(organization__isnull=True, library_key="password-shikko")
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        organization=organization,
        fiscal_year=today.year,
        round_number=round_number,
        starts_on=today,
        ends_on=today,
        sending_profile=profile,
        state=Campaign.State.SCHEDULED,
    )
    campaign.scenarios.set([scenario])
    due = timezone.now() - datetime.timedelta(seconds=1)
    people = Person.objects.filter(organization=organization, employee_number__startswith=prefix)
    Delivery.objects.bulk_create(
        (
            Delivery(
                organization=organization,
                campaign=campaign,
                person_id=person_id,
                scenario=scenario,
                email=email,
                scheduled_at=due,
            )
            for person_id, email in people.values_list("pk", "email").iterator()
        ),
        batch_size=5000,
    )
    return campaign


def sample_message_size(campaign) -> int:
    """Bytes of one composed mail of the campaign: the baseline sends messages of this size."""
    from mamori.drills.rendering import render_for_delivery
    from mamori.drills.sender.compose import compose_mail

    delivery = campaign.deliveries.select_related("person__department", "organization", "scenario").first()
    mail = compose_mail(render_for_delivery(delivery), recipient=delivery.email, profile=campaign.sending_profile)
    return len(mail.content)


def smtp_source_rate(port: int, count: int, size: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            tool("smtp-source"),
            "-s",
            "1",
            "-d",
            "-m",
            str(count),
            "-l",
            str(size),
            "-f",
            "drill@bench.example.jp",
            "-t",
            "someone@bench.lg.jp",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return count / (time.perf_counter() - started)


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_workers(url: str, campaign, count: int) -> dict:
    """Start the workers, wait until the campaign has no queued mail, stop them; memory and timings."""
    from django.db.models import Max, Min

    from mamori.drills.models import Delivery

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "mamori", "worker", "--poll-seconds", "0.2"], cwd=ROOT, env=mamori_environment(url)
        )
        for _ in range(count)
    ]
    total = campaign.deliveries.count()
    started = time.perf_counter()
    rss_at_tenth: list[int] = []
    try:
        while True:
            time.sleep(0.25)
            queued = campaign.deliveries.filter(state=Delivery.State.QUEUED).count()
            if not rss_at_tenth and queued <= total * 0.9:
                rss_at_tenth = [memory_kb(worker.pid, "VmRSS") for worker in workers]
            if queued == 0:
                break
            if any(worker.poll() is not None for worker in workers):
                raise RuntimeError("a worker exited early")
        wall = time.perf_counter() - started
        rss_at_end = [memory_kb(worker.pid, "VmRSS") for worker in workers]
        peak = [memory_kb(worker.pid, "VmHWM") for worker in workers]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    sent = campaign.deliveries.filter(state=Delivery.State.SENT)
    span = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return {
        "sent": sent.count(),
        "failed": campaign.deliveries.filter(state=Delivery.State.FAILED).count(),
        "seconds": seconds,
        "per_second": (sent.count() - 1) / seconds if seconds else 0.0,
        "wall_seconds": wall,
        "exit_codes": [worker.returncode for worker in workers],
        "rss_mb_at_10_percent": [round(kb / 1024, 1) for kb in rss_at_tenth],
        "rss_mb_at_end": [round(kb / 1024, 1) for kb in rss_at_end],
        "peak_rss_mb": [round(kb / 1024, 1) for kb in peak],
    }


def main() -> None:
    args = parse_args()
    ensure_postfix_tools()
    reset_database(args.database_url)
    manage(args.database_url, "migrate", "-v", "0")
    setup_django(args.database_url)
    port = free_port()
    sink = subprocess.Popen([tool("smtp-sink"), "-u", "nobody", f"127.0.0.1:{port}", "1024"])
    try:
        time.sleep(0.3)
        campaign = make_campaign(port, args.recipients, round_number=1, rate=0)
        size = sample_message_size(campaign)
        baseline = smtp_source_rate(port, args.recipients, size)
        print(f"smtp-source, 1 session, {size}-byte messages: {baseline:,.0f} mails/s", flush=True)
        unlimited = run_workers(args.database_url, campaign, args.workers)
        print(
            f"mamori, {args.workers} workers, {unlimited['sent']:,} personalised mails: "
            f"{unlimited['per_second']:,.0f} mails/s ({unlimited['per_second'] / baseline:.0%} of smtp-source); "
            f"worker RSS at 10 % {unlimited['rss_mb_at_10_percent']} MB, at the end {unlimited['rss_mb_at_end']} MB, "
            f"peak {unlimited['peak_rss_mb']} MB",
            flush=True,
        )
        rate_recipients = args.rate * args.rate_seconds // 60 + 1
        limited_campaign = make_campaign(port, rate_recipients, round_number=2, rate=args.rate)
        limited = run_workers(args.database_url, limited_campaign, args.workers)
        achieved = limited["per_second"] * 60
        error = abs(achieved - args.rate) / args.rate
        print(f"rate limit {args.rate}/min over {limited['seconds']:.1f} s: {achieved:.1f}/min ({error:.2%} off)")
    finally:
        sink.terminate()
        sink.wait(10)
    ratio = unlimited["per_second"] / baseline
    result = {
        "mails_per_s": round(unlimited["per_second"], 1),
        "baseline": round(baseline, 1),
        "baseline_tool": "smtp-source -s 1 -d",
        "ratio": round(ratio, 3),
        "recipients": unlimited["sent"],
        "failed": unlimited["failed"],
        "workers": args.workers,
        "message_bytes": size,
        "worker_rss_mb_at_10_percent": unlimited["rss_mb_at_10_percent"],
        "worker_rss_mb_at_end": unlimited["rss_mb_at_end"],
        "worker_peak_rss_mb": unlimited["peak_rss_mb"],
        "rate_limit_per_min": args.rate,
        "rate_achieved_per_min": round(achieved, 2),
        "rate_error": round(error, 4),
        "targets": {"mails_per_s": TARGET_MAILS_PER_S, "ratio": TARGET_RATIO, "rate_error": TARGET_RATE_ERROR},
        "met": unlimited["per_second"] >= TARGET_MAILS_PER_S and ratio >= TARGET_RATIO and error <= TARGET_RATE_ERROR,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
