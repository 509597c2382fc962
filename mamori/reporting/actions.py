"""Every state change of suspicious-mail reports: ingestion (matching, clustering, thanks) and triage.

``ingest_message`` is the one path of every channel — report mailbox, report page, API and the
``ingest-eml`` command — so that a drill trains exactly what a real report does.
"""

import datetime
import hashlib
import logging

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from mamori.core.audit import record
from mamori.core.models import Organization, Person
from mamori.drills.models import Delivery
from mamori.drills.tracking.classifier import FIRST_TIME_FIELDS
from mamori.lib.mailparse import UNPARSEABLE, ParsedReport, drill_tokens, parse_report
from mamori.reporting import clustering, mail
from mamori.reporting.models import OriginalMessage, Report, ReportCluster

logger = logging.getLogger(__name__)

# A new report joins a similar cluster reported within this window; older ones start a new item.
CLUSTER_WINDOW = datetime.timedelta(days=14)
# Similar clusters compared per report (the newest first): enough for one campaign's variants.
CLUSTER_CANDIDATES = 50
PARSER_FAILED = "parser-failed"


def ingest_message(
    organization: Organization,
    raw: bytes,
    *,
    channel: str,
    reporter_email: str | None = None,
    received_at: datetime.datetime | None = None,
) -> Report:
    """Store, parse, match and answer one report; the original is kept whatever happens.

    1. Store the raw bytes first, in their own transaction, as a report needing attention.
    2. Parse (the parser never raises; a bug in it still leaves the stored report for a person).
    3. Copy what was found onto the report; identify the reporter in the roster.
    4. A drill token of this organization makes it a drill report (matched to its delivery); otherwise it
       joins or starts a triage cluster.
    5. Thank the reporter by mail, outside the transaction: a mail server outage loses no report.
    """
    [report] = store_originals(organization, [(raw, received_at or timezone.now())], channel=channel)
    return process_report(report, raw, reporter_email=reporter_email)


def store_originals(
    organization: Organization, messages: list[tuple[bytes, datetime.datetime]], *, channel: str
) -> list[Report]:
    """Step 1 for several messages at once: (raw, received_at) pairs stored in one transaction.

    The report mailbox stores a whole fetched batch before working on any of it: one commit instead of
    one per mail, and still nothing is parsed before its original is safely stored. Each report is then
    handed to ``process_report``.
    """
    with transaction.atomic():
        reports = Report.objects.bulk_create(
            Report(
                organization=organization,
                channel=channel,
                state=Report.State.NEEDS_ATTENTION,
                received_at=received_at,
            )
            for _raw, received_at in messages
        )
        OriginalMessage.objects.bulk_create(
            OriginalMessage(report=report, content=raw, size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
            for report, (raw, _received_at) in zip(reports, messages, strict=True)
        )
    return reports


def process_report(report: Report, raw: bytes, *, reporter_email: str | None = None) -> Report:
    """Steps 2–5 of ``ingest_message`` on a report whose original is already stored."""
    organization = report.organization
    try:
        parsed = parse_report(raw)
    except Exception:
        # Not thanked: without parsing, an auto-reply cannot be told apart, and answering one may loop.
        logger.exception("parser failed on report %s", report.public_id)
        report.problems = [PARSER_FAILED]
        report.reporter_email = _clean_email(reporter_email)
        report.reporter = _roster_person(organization, report.reporter_email)
        report.save(update_fields=["problems", "reporter_email", "reporter"])
        return report
    with transaction.atomic():
        _copy_parsed(report, parsed, reporter_email)
        if UNPARSEABLE not in parsed.problems:
            delivery = _matching_delivery(organization, parsed, report.reporter)
            if delivery is not None:
                _record_drill_report(report, delivery)
            else:
                _assign_cluster(report)
        report.save()
        if report.cluster is not None:
            _count_cluster(report.cluster, report.received_at)
    if not parsed.envelope.is_automatic:
        thank_reporter(report)
    return report


def _clean_email(address: str | None) -> str:
    address = _storable(address or "").strip().lower()
    return address if "@" in address and len(address) <= 254 else ""


def _roster_person(organization: Organization, email: str) -> Person | None:
    """The roster entry of a lower-cased address (the roster import stores addresses lower-cased, so this is
    one lookup in the unique (organization, email) index)."""
    if not email:
        return None
    # Unordered: the address is unique, and ``first()`` would sort by the roster's name ordering.
    found = list(Person.objects.filter(organization=organization, email=email).order_by()[:1])
    return found[0] if found else None


def _aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    # A Date header without a zone is read as UTC (RFC 5322 says -0000 means "unknown local time").
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment, datetime.UTC)
    return moment


def _storable(value):
    """``value`` without NUL characters, which PostgreSQL refuses in text and JSON (attacker mail has them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    return value


def _copy_parsed(report: Report, parsed: ParsedReport, reporter_email: str | None) -> None:
    data = _storable(parsed.as_dict())
    envelope, reported = data["envelope"], data["reported"]
    report.reporter_email = _clean_email(reporter_email or envelope["from_"])
    report.reporter = _roster_person(report.organization, report.reporter_email)
    report.envelope_message_id = envelope["message_id"][:998]
    report.envelope_subject = envelope["subject"][:500]
    report.forwarded_as = parsed.forwarded_as
    report.subject = reported["subject"][:500]
    report.from_address = reported["from_"][:500]
    report.reply_to = reported["reply_to"][:500]
    report.return_path = reported["return_path"][:500]
    report.sent_date = _aware(parsed.reported.date)
    report.message_id = reported["message_id"][:998]
    report.headers = {
        key: reported[key]
        for key in ("from_name", "to", "received", "auth_results", "mismatches", "rewritten_urls", "drill_headers")
    }
    report.urls = reported["urls"]
    report.domains = reported["domains"]
    report.ips = reported["ips"]
    report.addresses = reported["addresses"]
    report.attachments = reported["attachments"]
    report.text_excerpt = reported["text_excerpt"]
    report.problems = data["problems"]


def _matching_delivery(organization: Organization, parsed: ParsedReport, reporter: Person | None) -> Delivery | None:
    """The organization's delivery named by a token in the report: the reporter's own if several match.

    Tokens of other organizations' drills find nothing here, so such a mail is handled as a real report.
    """
    tokens = drill_tokens(parsed)
    if not tokens:
        return None
    deliveries = list(Delivery.objects.filter(organization=organization, token__in=tokens))
    own = [delivery for delivery in deliveries if reporter is not None and delivery.person_id == reporter.pk]
    if own:
        return own[0]
    order = {token: index for index, token in enumerate(tokens)}
    return min(deliveries, key=lambda delivery: order[delivery.token], default=None)


def _record_drill_report(report: Report, delivery: Delivery) -> None:
    """Link the report to its delivery; the recipient's first report sets ``Delivery.reported_at``.

    The conditional UPDATE makes "first" exact when the same person's forward and add-in report arrive
    together. Times are measured from sending and from the person's own first failure, as known now (a
    click the classifier has not judged yet is not counted).
    """
    report.state = Report.State.DRILL
    report.delivery = delivery
    report.by_recipient = report.reporter is not None and report.reporter.pk == delivery.person_id
    if delivery.sent_at is not None:
        report.seconds_since_sent = _seconds_between(delivery.sent_at, report.received_at)
    failure_times = [getattr(delivery, name) for name in FIRST_TIME_FIELDS.values()]
    failures = [moment for moment in failure_times if moment is not None and moment <= report.received_at]
    if failures and report.by_recipient:
        report.seconds_since_failure = _seconds_between(min(failures), report.received_at)
    if report.by_recipient:
        report.first_by_recipient = bool(
            Delivery.objects.filter(pk=delivery.pk, reported_at__isnull=True).update(reported_at=report.received_at)
        )


def _seconds_between(start: datetime.datetime, end: datetime.datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def _assign_cluster(report: Report) -> None:
    """Join the most similar recent cluster (at least two of three signals agree) or start one.

    Two reports of a brand-new phish arriving in the same instant may each start a cluster; a triager
    sees two items then, nothing is lost.
    """
    subject_key = clustering.subject_key(report.subject)
    sender = clustering.sender_key(report.from_address)
    url_keys = clustering.url_keys(report.urls)
    cluster = _similar_cluster(report, subject_key, sender, url_keys)
    if cluster is None:
        cluster = ReportCluster.objects.create(
            organization=report.organization,
            subject_key=subject_key,
            sender=sender,
            url_keys=url_keys,
            subject=report.subject,
            first_reported_at=report.received_at,
            last_reported_at=report.received_at,
        )
    report.cluster = cluster
    judged = cluster.verdict != ReportCluster.Verdict.PENDING
    report.state = Report.State.TRIAGED if judged else Report.State.TRIAGE


def _similar_cluster(report: Report, subject_key: str, sender: str, url_keys: list[str]) -> ReportCluster | None:
    if not subject_key and not sender:
        return None
    recent = ReportCluster.objects.filter(
        organization=report.organization, last_reported_at__gte=report.received_at - CLUSTER_WINDOW
    )
    signals = ReportCluster.objects.none()
    if subject_key:
        signals = signals | recent.filter(subject_key=subject_key)
    if sender:
        signals = signals | recent.filter(sender=sender)
    best, best_score = None, 0
    for candidate in signals.order_by("-last_reported_at")[:CLUSTER_CANDIDATES]:
        score = clustering.agreeing_signals(
            subject_key, sender, url_keys, candidate.subject_key, candidate.sender, candidate.url_keys
        )
        if score > best_score:
            best, best_score = candidate, score
    return best if best_score >= clustering.SIGNALS_TO_JOIN else None


def _count_cluster(cluster: ReportCluster, reported_at: datetime.datetime) -> None:
    """Recount from the reports (self-healing after a race); a report without an address is one reporter.

    One UPDATE with the counts as subqueries: a round trip less per report than counting first.
    """
    reports = Report.objects.filter(cluster=OuterRef("pk")).order_by().values("cluster")
    ReportCluster.objects.filter(pk=cluster.pk).update(
        report_count=_counted(reports.annotate(count=Count("pk"))),
        reporter_count=_counted(
            reports.annotate(
                count=Count("reporter_email", distinct=True, filter=~Q(reporter_email=""))
                + Count("pk", filter=Q(reporter_email=""))
            )
        ),
        first_reported_at=Least("first_reported_at", Value(reported_at)),
        last_reported_at=Greatest("last_reported_at", Value(reported_at)),
    )


def _counted(counts) -> Coalesce:
    return Coalesce(Subquery(counts.values("count")), 0)


def thanks_kind(report: Report) -> str:
    """Which thanks the report earns: a drill, a drill after the person's own failure, or a real report."""
    if report.state != Report.State.DRILL:
        return Report.Thanks.REAL
    return Report.Thanks.CLICKED_DRILL if report.seconds_since_failure is not None else Report.Thanks.DRILL


def thank_reporter(report: Report) -> bool:
    """Send the instant thanks mail to a reporter from the roster; record what happened.

    Only roster addresses are answered: the API and the report page take an address from outside, and
    mamori must not become a way to send mail to anyone.
    """
    if report.reporter is None or not report.reporter.active:
        return False
    kind = thanks_kind(report)
    report.thanks = kind
    try:
        mail.SENDERS[kind](report, report.reporter.email)
    except Exception as error:
        logger.warning("thanks mail for report %s failed: %s", report.public_id, error)
        report.thanks_error = str(error)[:500]
        report.save(update_fields=["thanks", "thanks_error"])
        return False
    report.thanked_at = timezone.now()
    report.thanks_error = ""
    report.save(update_fields=["thanks", "thanked_at", "thanks_error"])
    return True


def set_verdict(cluster: ReportCluster, verdict: str, *, note: str = "", by, request=None) -> ReportCluster:
    """A triager's judgement of a cluster; its reports are then judged too (state ``triaged``)."""
    previous = cluster.verdict
    with transaction.atomic():
        cluster.verdict = verdict
        cluster.verdict_note = note
        cluster.verdict_by = by
        cluster.verdict_at = timezone.now()
        cluster.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
        state = Report.State.TRIAGE if verdict == ReportCluster.Verdict.PENDING else Report.State.TRIAGED
        cluster.reports.exclude(state=state).update(state=state)
        record(
            "reporting.verdict",
            organization=cluster.organization,
            actor=by,
            request=request,
            target=cluster,
            verdict=verdict,
            previous=previous,
            reports=cluster.report_count,
        )
    return cluster
