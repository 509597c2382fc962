"""The report mailbox poller against a real Dovecot: ingest, file, keep failures, survive crashes."""

import datetime
from unittest import mock

from django.core import mail
from django.utils import timezone

from mamori.core import worker
from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_person
from mamori.drills.links import click_url
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting import mailbox as poller
from mamori.reporting.models import Report, ReportCluster, ReportMailbox
from mamori.reporting.tests.dovecot import free_port
from mamori.reporting.tests.fixtures import forwards
from mamori.reporting.tests.fixtures.mailboxes import DovecotTestCase

REPORT_ADDRESS = "report@city-a.lg.jp"


class CrashDuringFiling(BaseException):
    """Stands for the worker process dying: nothing in the poller catches it."""


def phish_forward(client="outlook", *, inline=False, reporter="yamada@city-a.lg.jp", **fields) -> bytes:
    original = forwards.suspicious_mail(recipient=reporter, **fields)
    return forwards.forward(original, client=client, inline=inline, reporter=reporter, report_address=REPORT_ADDRESS)


class PollerTests(DovecotTestCase):
    def poll(self) -> int:
        """One turn on the test's mailbox, made due now (as the worker would claim it)."""
        ReportMailbox.objects.filter(pk=self.mailbox.pk).update(next_poll_at=None, poll_lease_until=None)
        mailbox = poller.claim_due_mailbox()
        self.assertEqual(mailbox, self.mailbox)
        return poller.poll_mailbox(mailbox)

    def test_it_ingests_forwards_from_every_client_inline_and_attached(self):
        raws = [phish_forward(client, inline=inline) for client in forwards.CLIENTS for inline in (True, False)]
        self.deliver(*raws)

        self.assertEqual(self.poll(), 6)

        reports = Report.objects.filter(organization=self.ward_a).order_by("received_at", "pk")
        self.assertEqual(reports.count(), 6)
        self.assertEqual({report.channel for report in reports}, {Report.Channel.MAILBOX})
        # ISO-2022-JP subjects decoded, the reported mail found inside each kind of forward.
        self.assertEqual({report.subject for report in reports}, {forwards.PHISH_SUBJECT})
        self.assertEqual(
            sorted(report.forwarded_as for report in reports),
            sorted([Report.ForwardedAs.INLINE] * 3 + [Report.ForwardedAs.ATTACHMENT] * 3),
        )
        self.assertEqual({report.reporter for report in reports}, {self.person_a})
        for report in reports:
            self.assertIn(forwards.PHISH_URL, report.urls)
        self.assertCountEqual([bytes(report.original.content) for report in reports], raws)

    def test_it_moves_ingested_mail_to_the_processed_folder_seen_and_marked(self):
        self.deliver(phish_forward(), phish_forward("gmail", inline=True))

        self.poll()

        self.assertEqual(self.folder("INBOX"), [])
        processed = self.folder("処理済み")
        self.assertEqual(len(processed), 2)
        for stored in processed:
            self.assertIn("\\Seen", stored.flags)
            self.assertIn(poller.DONE, stored.flags)

    def test_it_keeps_the_arrival_time_of_the_server_as_received_at(self):
        arrival = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC)
        client = self.dovecot.client(self.imap_user)
        client.append("INBOX", phish_forward(), msg_time=arrival)
        client.logout()

        self.poll()

        self.assertEqual(Report.objects.get(organization=self.ward_a).received_at, arrival)

    def test_it_thanks_the_reporter_at_once(self):
        self.deliver(phish_forward())

        self.poll()

        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.person_a.email])

    def test_it_matches_a_drill_forwarded_by_its_recipient(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        drill = forwards.drill_mail(recipient=self.person_a.email, url=click_url(delivery.token))
        self.deliver(
            forwards.forward(
                drill, client="thunderbird", inline=True, reporter=self.person_a.email, report_address=REPORT_ADDRESS
            )
        )

        self.poll()

        report = Report.objects.get(organization=self.ward_a)
        self.assertEqual(report.state, Report.State.DRILL)
        self.assertEqual(report.delivery, delivery)
        self.assertTrue(report.by_recipient)
        delivery.refresh_from_db()
        self.assertIsNotNone(delivery.reported_at)

    def test_it_records_a_drill_reported_by_someone_else_as_such(self):
        colleague = make_person(self.ward_a, "佐藤 次郎", email="sato@city-a.lg.jp")
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        drill = forwards.drill_mail(recipient=self.person_a.email, url=forwards.safelinks(click_url(delivery.token)))
        self.deliver(
            forwards.forward(
                drill, client="outlook", inline=False, reporter=colleague.email, report_address=REPORT_ADDRESS
            )
        )

        self.poll()

        report = Report.objects.get(organization=self.ward_a)
        self.assertEqual(report.delivery, delivery)
        self.assertEqual(report.reporter, colleague)
        self.assertFalse(report.by_recipient)
        delivery.refresh_from_db()
        self.assertIsNone(delivery.reported_at)

    def test_it_clusters_a_phish_reported_by_thirty_staff(self):
        reporters = [make_person(self.ward_a, f"職員{n}", email=f"staff{n}@city-a.lg.jp").email for n in range(30)]
        self.deliver(*forwards.phish_cluster(reporters, report_address=REPORT_ADDRESS))

        self.assertEqual(self.poll(), 30)

        cluster = ReportCluster.objects.get(organization=self.ward_a)
        self.assertEqual(cluster.report_count, 30)
        self.assertEqual(cluster.reporter_count, 30)
        self.assertEqual(len(self.folder("処理済み")), 30)

    def test_it_keeps_flags_and_records_a_message_whose_ingestion_fails(self):
        broken = phish_forward("gmail", inline=True, subject="壊れる報告")
        self.deliver(phish_forward(), broken)
        process = poller.process_report

        def failing_process(report, raw, **options):
            if raw == broken:
                raise ValueError("parser exploded")
            return process(report, raw, **options)

        with mock.patch.object(poller, "process_report", side_effect=failing_process):
            self.assertEqual(self.poll(), 2)

        self.assertEqual(self.folder("INBOX"), [])
        self.assertEqual(len(self.folder("処理済み")), 1)
        [kept] = self.folder("要確認")
        self.assertEqual(kept.raw, broken)
        self.assertIn(poller.ERROR, kept.flags)
        self.assertIn("\\Flagged", kept.flags)
        self.assertNotIn("\\Seen", kept.flags)
        entry = AuditEntry.objects.get(organization=self.ward_a, action=poller.FAILED_ACTION)
        self.assertEqual(entry.details["subject"], "Fwd: 壊れる報告")
        self.assertEqual(entry.details["folder"], "要確認")
        self.assertIn("parser exploded", entry.details["reason"])

    def test_it_does_not_fetch_the_failed_message_again(self):
        self.deliver(phish_forward())
        self.mailbox.error_folder = ""
        self.mailbox.save()
        with mock.patch.object(poller, "process_report", side_effect=ValueError("boom")):
            self.poll()

        with mock.patch.object(poller, "process_report") as process:
            self.assertEqual(self.poll(), 0)

        process.assert_not_called()
        # The original was stored before processing failed: kept for a person in mamori too.
        self.assertEqual(Report.objects.get(organization=self.ward_a).state, Report.State.NEEDS_ATTENTION)
        [kept] = self.folder("INBOX")
        self.assertIn(poller.ERROR, kept.flags)

    def test_it_only_flags_when_no_processed_folder_is_set(self):
        self.mailbox.processed_folder = ""
        self.mailbox.save()
        self.deliver(phish_forward())

        self.poll()
        self.assertEqual(self.poll(), 0)

        [stored] = self.folder("INBOX")
        self.assertIn(poller.DONE, stored.flags)
        self.assertIn("\\Seen", stored.flags)
        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 1)

    def test_it_copies_and_expunges_where_the_server_has_no_move(self):
        self.deliver(phish_forward(), phish_forward("thunderbird"))
        has_capability = poller.IMAPClient.has_capability

        def without_move(client, capability):
            return capability.upper() != "MOVE" and has_capability(client, capability)

        with mock.patch.object(poller.IMAPClient, "has_capability", without_move):
            self.poll()

        self.assertEqual(self.folder("INBOX"), [])
        self.assertEqual(len(self.folder("処理済み")), 2)

    def test_it_ingests_nothing_twice_after_a_crash_before_filing(self):
        self.deliver(*(phish_forward(client) for client in forwards.CLIENTS))
        with (
            mock.patch.object(poller, "file_ingested", side_effect=CrashDuringFiling),
            self.assertRaises(CrashDuringFiling),
        ):
            self.poll()
        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 3)
        self.assertEqual(len(self.folder("INBOX")), 3)

        with (
            mock.patch.object(poller, "store_originals") as store,
            mock.patch.object(poller, "process_report") as process,
        ):
            self.assertEqual(self.poll(), 3)

        store.assert_not_called()
        process.assert_not_called()
        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 3)
        self.assertEqual(self.folder("INBOX"), [])
        self.assertEqual(len(self.folder("処理済み")), 3)

    def test_it_stops_between_batches_when_the_worker_is_asked_to(self):
        self.deliver(phish_forward(), phish_forward("gmail"), phish_forward("thunderbird"))
        process = poller.process_report

        def process_then_stop(report, raw, **options):
            worker.stop_requested.set()
            return process(report, raw, **options)

        self.addCleanup(worker.stop_requested.clear)
        with (
            mock.patch.object(poller, "BATCH_SIZE", 1),
            mock.patch.object(poller, "process_report", side_effect=process_then_stop),
        ):
            self.poll()

        self.assertEqual(len(self.folder("処理済み")), 1)
        self.assertEqual(len(self.folder("INBOX")), 2)
        worker.stop_requested.clear()
        self.assertEqual(self.poll(), 2)
        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 3)

    def test_a_stop_request_finishes_the_stored_batch_first(self):
        # A stored original is skipped when fetched again, so none may be left unprocessed by a planned stop.
        self.deliver(phish_forward(), phish_forward("gmail"), phish_forward("thunderbird"))
        process = poller.process_report

        def process_then_stop(report, raw, **options):
            worker.stop_requested.set()
            return process(report, raw, **options)

        self.addCleanup(worker.stop_requested.clear)
        with mock.patch.object(poller, "process_report", side_effect=process_then_stop):
            self.assertEqual(self.poll(), 3)

        self.assertFalse(Report.objects.filter(organization=self.ward_a, state=Report.State.NEEDS_ATTENTION).exists())
        self.assertEqual(len(self.folder("処理済み")), 3)

    def test_it_keeps_a_message_too_large_to_ingest(self):
        self.deliver(phish_forward())

        with mock.patch.object(poller, "MAX_MESSAGE_BYTES", 100), mock.patch.object(poller, "store_originals") as store:
            self.poll()

        store.assert_not_called()
        [kept] = self.folder("要確認")
        self.assertIn(poller.ERROR, kept.flags)
        self.assertIn("大きすぎる", AuditEntry.objects.get(action=poller.FAILED_ACTION).details["reason"])

    def test_it_ingests_a_forward_with_a_twenty_megabyte_attachment(self):
        archive = ("請求書.zip", b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024), "application/zip")
        original = forwards.suspicious_mail(recipient=self.person_a.email, attachment=archive)
        big = forwards.forward(
            original, client="thunderbird", inline=False, reporter=self.person_a.email, report_address=REPORT_ADDRESS
        )
        self.deliver(big)

        self.assertEqual(self.poll(), 1)

        report = Report.objects.get(organization=self.ward_a)
        self.assertEqual(bytes(report.original.content), big)
        self.assertEqual([attachment["name"] for attachment in report.attachments], ["請求書.zip"])
        self.assertEqual(len(self.folder("処理済み")), 1)


class ConnectionTests(DovecotTestCase):
    def test_it_logs_in_with_an_oauth2_token(self):
        # Dovecot checks an XOAUTH2 bearer token against the passdb as if it were the password.
        self.imap_user = "oauth-" + self.imap_user
        self.dovecot.add_user(self.imap_user, "ya29.test-access-token")
        self.mailbox.username = self.imap_user
        self.mailbox.password = ""
        self.mailbox.oauth2_token = "ya29.test-access-token"
        self.mailbox.save()
        self.deliver(phish_forward())

        self.assertTrue(poller.poll_due_mailboxes())

        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 1)

    def test_it_records_a_refused_login_and_retries_at_the_next_poll(self):
        self.mailbox.password = "wrong-password"
        self.mailbox.save()
        self.deliver(phish_forward())

        self.assertFalse(poller.poll_due_mailboxes())

        self.mailbox.refresh_from_db()
        self.assertIn("ログインできませんでした", self.mailbox.last_error)
        self.assertIn("AUTHENTICATIONFAILED", self.mailbox.last_error)
        self.assertIsNone(self.mailbox.poll_lease_until)
        self.assertGreater(self.mailbox.next_poll_at, timezone.now())
        self.assertEqual(len(self.folder("INBOX")), 1)

        self.mailbox.password = "report-mailbox-pass-1"
        self.mailbox.next_poll_at = timezone.now()
        self.mailbox.save()
        self.assertTrue(poller.poll_due_mailboxes())
        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.last_error, "")

    def test_it_records_an_unreachable_server(self):
        self.mailbox.port = free_port()
        self.mailbox.save()

        poller.poll_due_mailboxes()

        self.mailbox.refresh_from_db()
        self.assertIn("接続を拒否されました", self.mailbox.last_error)

    def test_it_waits_for_the_poll_interval_after_an_empty_poll(self):
        self.assertFalse(poller.poll_due_mailboxes())
        self.deliver(phish_forward())

        self.assertFalse(poller.poll_due_mailboxes())

        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 0)

    def test_two_workers_never_poll_the_same_mailbox(self):
        self.assertEqual(poller.claim_due_mailbox(), self.mailbox)
        self.assertIsNone(poller.claim_due_mailbox())

    def test_it_takes_over_a_mailbox_whose_lease_ran_out(self):
        ReportMailbox.objects.filter(pk=self.mailbox.pk).update(
            poll_lease_until=timezone.now() - datetime.timedelta(seconds=1)
        )

        self.assertEqual(poller.claim_due_mailbox(), self.mailbox)

    def test_it_skips_disabled_mailboxes(self):
        self.mailbox.enabled = False
        self.mailbox.save()
        self.deliver(phish_forward())

        self.assertFalse(poller.poll_due_mailboxes())
        self.assertEqual(len(self.folder("INBOX")), 1)

    def test_it_refuses_plain_imap_to_a_public_server(self):
        self.mailbox.host = "imap.example.com"
        self.mailbox.save()

        poller.poll_due_mailboxes()

        self.mailbox.refresh_from_db()
        self.assertIn("暗号化なしで接続できるのは", self.mailbox.last_error)

    def test_it_files_each_organizations_mail_into_its_own_reports(self):
        other_user = "report-b@city-b.lg.jp"
        self.dovecot.add_user(other_user, "ward-b-pass")
        ward_b_mailbox = self.make_mailbox(self.ward_b, username=other_user)
        ward_b_mailbox.password = "ward-b-pass"
        ward_b_mailbox.save()
        self.deliver(phish_forward())
        self.dovecot.append(other_user, [phish_forward(reporter=self.person_b.email)])

        self.assertTrue(poller.poll_due_mailboxes())

        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 1)
        self.assertEqual(Report.objects.get(organization=self.ward_b).reporter, self.person_b)


class TlsTests(DovecotTestCase):
    tls = True

    def test_it_polls_over_imaps(self):
        self.mailbox.security = ReportMailbox.Security.TLS
        self.mailbox.port = self.dovecot.tls_port
        self.mailbox.save()
        self.deliver(phish_forward())

        with self.trusting_test_ca():
            self.assertTrue(poller.poll_due_mailboxes())

        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 1)

    def test_it_polls_over_starttls(self):
        self.mailbox.security = ReportMailbox.Security.STARTTLS
        self.mailbox.save()
        self.deliver(phish_forward())

        with self.trusting_test_ca():
            self.assertTrue(poller.poll_due_mailboxes())

        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 1)

    def test_it_refuses_a_certificate_it_cannot_verify(self):
        self.mailbox.security = ReportMailbox.Security.TLS
        self.mailbox.port = self.dovecot.tls_port
        self.mailbox.save()
        self.deliver(phish_forward())

        self.assertFalse(poller.poll_due_mailboxes())

        self.mailbox.refresh_from_db()
        self.assertIn("サーバー証明書を検証できませんでした", self.mailbox.last_error)
        self.assertEqual(Report.objects.filter(organization=self.ward_a).count(), 0)
