"""The report mailbox settings page: security_admin only, write-only secrets, a real connection test."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import AuditEntry
from mamori.reporting import mailbox as poller
from mamori.reporting.models import ReportMailbox
from mamori.reporting.tests.fixtures.forwards import forward, suspicious_mail
from mamori.reporting.tests.fixtures.mailboxes import PASSWORD, DovecotTestCase

URL = reverse("reporting:mailbox")


class MailboxPageTests(DovecotTestCase):
    def form_data(self, **changes) -> dict:
        data = {
            "host": self.dovecot.host,
            "port": self.dovecot.port,
            "security": ReportMailbox.Security.NONE,
            "username": self.imap_user,
            "login_method": "password",
            "secret": "",
            "folder": "INBOX",
            "processed_folder": "処理済み",
            "error_folder": "要確認",
            "enabled": "on",
        }
        data.update(changes)
        return data

    def test_it_shows_the_settings_without_the_password(self):
        self.login(self.alice)

        response = self.client.get(URL)

        self.assertContains(response, self.imap_user)
        self.assertContains(response, "保存済みです（表示しません）")
        self.assertNotContains(response, PASSWORD)
        self.assertNotContains(response, self.mailbox.sealed_password)

    def test_it_creates_the_mailbox_with_a_sealed_password(self):
        self.mailbox.delete()
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(secret="new-secret-9"))

        self.assertRedirects(response, URL)
        mailbox = ReportMailbox.objects.get(organization=self.ward_a)
        self.assertEqual(mailbox.password, "new-secret-9")
        self.assertNotIn("new-secret-9", mailbox.sealed_password)
        entry = AuditEntry.objects.get(action="reporting.mailbox_saved")
        self.assertTrue(entry.details["created"])
        self.assertNotIn("new-secret-9", str(entry.details))

    def test_it_keeps_the_stored_password_when_left_blank(self):
        self.login(self.alice)

        self.client.post(URL, self.form_data(folder="Reports", processed_folder=""))

        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.folder, "Reports")
        self.assertEqual(self.mailbox.processed_folder, "")
        self.assertEqual(self.mailbox.password, PASSWORD)

    def test_it_switches_to_an_oauth2_token_and_forgets_the_password(self):
        self.login(self.alice)

        self.client.post(URL, self.form_data(login_method="oauth2", secret="ya29.token"))

        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.oauth2_token, "ya29.token")
        self.assertEqual(self.mailbox.sealed_password, "")

    def test_it_asks_for_a_token_when_switching_method(self):
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(login_method="oauth2"))

        self.assertContains(response, "パスワードまたはアクセストークンを入力してください。")

    def test_it_refuses_plain_imap_to_an_outside_server(self):
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(host="imap.example.com"))

        self.assertContains(response, "暗号化なしで接続できるのは")
        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.host, self.dovecot.host)

    def test_it_refuses_the_same_folder_twice(self):
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(processed_folder="INBOX", error_folder='a"b'))

        self.assertContains(response, "受信フォルダーとは別のフォルダーを指定してください。")
        self.assertContains(response, "フォルダー名に制御文字")

    def test_the_connection_test_shows_the_servers_answers_in_japanese(self):
        self.deliver(
            forward(
                suspicious_mail(recipient="yamada@city-a.lg.jp"),
                client="gmail",
                inline=True,
                reporter="yamada@city-a.lg.jp",
                report_address=self.imap_user,
            )
        )
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(test="1"))

        self.assertContains(response, "接続できました")
        self.assertContains(response, "Dovecot")
        self.assertContains(response, "フォルダー「INBOX」を開きました（1 通、うち未処理 1 通）")
        self.assertContains(response, "MOVE に対応しています")
        self.assertContains(response, "フォルダー「処理済み」はまだありません")
        self.assertContains(response, "接続テストでは設定を保存していません。")
        self.assertEqual(len(self.folder("INBOX")), 1)
        self.assertTrue(AuditEntry.objects.get(action="reporting.mailbox_tested").details["ok"])

    def test_the_connection_test_reports_a_refused_login_without_saving(self):
        self.login(self.alice)

        response = self.client.post(URL, self.form_data(test="1", secret="wrong-secret"))

        self.assertContains(response, "接続できませんでした")
        self.assertContains(response, "ログインできませんでした（サーバーの応答: ")
        self.assertContains(response, "AUTHENTICATIONFAILED")
        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.password, PASSWORD)

    def test_it_lists_mail_that_could_not_be_ingested(self):
        poller.record_failure(
            self.mailbox, 7, b"From: a@example.jp\r\nSubject: =?utf-8?b?5aOK44KM44Gf?=\r\n\r\n", "ValueError: x"
        )
        self.login(self.alice)

        response = self.client.get(URL)

        self.assertContains(response, "壊れた")
        self.assertContains(response, "要確認（$MamoriError）")

    def test_it_shows_the_last_error(self):
        ReportMailbox.objects.filter(pk=self.mailbox.pk).update(
            last_error="ログインできませんでした（サーバーの応答: x）"
        )
        self.login(self.alice)

        response = self.client.get(URL)

        self.assertContains(response, "ログインできませんでした（サーバーの応答: x）")

    def test_it_is_for_security_admins_only(self):
        self.login(self.bob)

        self.assertEqual(self.client.get(URL).status_code, 403)
        self.assertEqual(self.client.post(URL, self.form_data(test="1")).status_code, 403)

    def test_charlie_sees_and_changes_only_his_own_wards_mailbox(self):
        self.login(self.charlie)

        response = self.client.get(URL)

        self.assertNotContains(response, self.imap_user)
        self.client.post(URL, self.form_data(username="b@city-b.lg.jp", secret="b-secret"))
        self.mailbox.refresh_from_db()
        self.assertEqual(self.mailbox.username, self.imap_user)
        self.assertEqual(ReportMailbox.objects.get(organization=self.ward_b).username, "b@city-b.lg.jp")

    def test_the_page_costs_the_same_with_many_failures(self):
        poller.record_failure(self.mailbox, 1, None, "too large")
        self.login(self.alice)
        self.client.get(URL)
        with CaptureQueriesContext(connection) as one_failure:
            self.client.get(URL)
        for uid in range(2, 31):
            poller.record_failure(self.mailbox, uid, None, "too large")

        with self.assertNumQueries(len(one_failure)):
            self.client.get(URL)
