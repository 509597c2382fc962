"""Sending profile pages: list, create, edit (password write-only), test send against a real SMTP server."""

from django.urls import reverse

from mamori.core.models import AuditEntry
from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import SendingProfile
from mamori.drills.tests.makers import make_sending_profile
from mamori.drills.tests.smtp_server import SMTPTestServer, free_port


def profile_data(**overrides) -> dict:
    data = {
        "name": "庁内リレー",
        "host": "smtp.city-a.lg.jp",
        "port": "587",
        "security": "starttls",
        "username": "",
        "password": "",
        "envelope_sender": "",
        "extra_headers": "",
        "charset": "utf-8",
        "rate_per_minute": "600",
    }
    data.update(overrides)
    return data


class ProfileListTests(BaseTestCase):
    def test_it_lists_the_wards_own_profiles(self):
        make_sending_profile(self.ward_a, "A区リレー", host="relay.city-a.lg.jp")
        make_sending_profile(self.ward_b, "B区リレー")
        self.login(self.alice)
        response = self.client.get(reverse("drills:profiles"))
        self.assertContains(response, "A区リレー")
        self.assertContains(response, "relay.city-a.lg.jp")
        self.assertNotContains(response, "B区リレー")

    def test_it_hides_other_wards_profiles_from_charlie(self):
        profile = make_sending_profile(self.ward_a, "A区リレー")
        self.login(self.charlie)
        self.assertNotContains(self.client.get(reverse("drills:profiles")), "A区リレー")
        for name in ("drills:profile-edit", "drills:profile-test"):
            with self.subTest(name=name):
                url = reverse(name, kwargs={"profile_id": profile.public_id})
                self.assertEqual(self.client.get(url).status_code, 404)
                self.assertEqual(self.client.post(url, profile_data(recipient="yamada@city-a.lg.jp")).status_code, 404)
        self.assertEqual(SendingProfile.objects.get(pk=profile.pk).name, "A区リレー")

    def test_it_refuses_roles_other_than_security_admin(self):
        profile = make_sending_profile(self.ward_a)
        self.login(self.bob)
        urls = [
            reverse("drills:profiles"),
            reverse("drills:profile-new"),
            reverse("drills:profile-edit", kwargs={"profile_id": profile.public_id}),
            reverse("drills:profile-test", kwargs={"profile_id": profile.public_id}),
        ]
        for url in urls:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 403)


class ProfileFormTests(BaseTestCase):
    def setUp(self):
        self.login(self.alice)

    def test_it_creates_a_profile_with_the_password_sealed_and_audited_without_it(self):
        response = self.client.post(
            reverse("drills:profile-new"),
            profile_data(username="drill", password="relay-secret-42", extra_headers="X-Ward-Drill: 2026-q2"),
        )
        self.assertRedirects(response, reverse("drills:profiles"))
        profile = SendingProfile.objects.get(organization=self.ward_a)
        self.assertEqual(profile.password, "relay-secret-42")
        self.assertNotIn("relay-secret-42", profile.sealed_password)
        self.assertEqual(profile.extra_headers, [["X-Ward-Drill", "2026-q2"]])
        entry = AuditEntry.objects.get(action="sending_profile.created")
        self.assertEqual(entry.organization, self.ward_a)
        self.assertTrue(entry.details["password_changed"])
        self.assertNotIn("relay-secret-42", str(entry.details))
        self.assertNotIn("password", entry.details["changed"])

    def test_the_edit_form_never_shows_the_password_and_blank_keeps_it(self):
        profile = make_sending_profile(self.ward_a, username="drill")
        profile.password = "relay-secret-42"
        profile.save()
        url = reverse("drills:profile-edit", kwargs={"profile_id": profile.public_id})
        page = self.client.get(url)
        self.assertNotContains(page, "relay-secret-42")
        self.assertNotContains(page, profile.sealed_password)
        self.assertContains(page, "保存済みです")
        response = self.client.post(url, profile_data(name="改名", username="drill", password=""))
        self.assertRedirects(response, reverse("drills:profiles"))
        profile.refresh_from_db()
        self.assertEqual((profile.name, profile.password), ("改名", "relay-secret-42"))
        entry = AuditEntry.objects.get(action="sending_profile.updated")
        self.assertFalse(entry.details["password_changed"])
        self.assertIn("name", entry.details["changed"])

    def test_a_new_password_replaces_the_old_and_clearing_removes_it(self):
        profile = make_sending_profile(self.ward_a, username="drill")
        profile.password = "old-secret"
        profile.save()
        url = reverse("drills:profile-edit", kwargs={"profile_id": profile.public_id})
        self.client.post(url, profile_data(username="drill", password="new-secret"))
        profile.refresh_from_db()
        self.assertEqual(profile.password, "new-secret")
        self.client.post(url, profile_data(clear_password="on"))
        profile.refresh_from_db()
        self.assertEqual(profile.sealed_password, "")

    def test_it_requires_a_password_with_a_user_name(self):
        response = self.client.post(reverse("drills:profile-new"), profile_data(username="drill"))
        self.assertContains(response, "パスワードも入力してください")
        self.assertFalse(SendingProfile.objects.exists())

    def test_it_rejects_headers_that_would_override_or_inject(self):
        cases = {
            "From: boss@city-a.lg.jp": "送信処理が設定するため",
            "Message-ID: <x@y>": "送信処理が設定するため",
            "X-Mamori-Drill: 1": "送信処理が設定するため",
            "X Bad: 1": "使えません",
            "X-Note": "改行を含まない半角英数字",
            "X-Note: 訓練": "改行を含まない半角英数字",
        }
        for line, message in cases.items():
            with self.subTest(line=line):
                response = self.client.post(reverse("drills:profile-new"), profile_data(extra_headers=line))
                self.assertContains(response, message)
        self.assertFalse(SendingProfile.objects.exists())

    def test_it_rejects_a_host_that_is_not_a_host_name(self):
        response = self.client.post(reverse("drills:profile-new"), profile_data(host="smtp.example.jp/evil"))
        self.assertContains(response, "ホスト名または IP アドレス")


class ProfileTestSendTests(BaseTestCase):
    def setUp(self):
        self.login(self.alice)

    def test_it_sends_a_test_mail_and_shows_the_servers_reply(self):
        with SMTPTestServer() as server:
            profile = make_sending_profile(
                self.ward_a, port=server.port, charset="iso-2022-jp", extra_headers=[["X-Ward-Drill", "ok"]]
            )
            url = reverse("drills:profile-test", kwargs={"profile_id": profile.public_id})
            self.assertContains(self.client.get(url), "city-a.lg.jp")
            response = self.client.post(url, {"recipient": "yamada@city-a.lg.jp"})
            self.assertContains(response, "送信しました")
            self.assertContains(response, "250 2.0.0 Ok: queued")
            (mail,) = server.received
        self.assertEqual(mail.rcpt_tos, ["yamada@city-a.lg.jp"])
        message = mail.message
        self.assertIn("テストメール", str(message["Subject"]))
        self.assertEqual(message.get_content_charset(), "iso-2022-jp")
        self.assertEqual(message["X-Ward-Drill"], "ok")
        entry = AuditEntry.objects.get(action="sending_profile.test_sent")
        self.assertEqual((entry.details["recipient"], entry.details["delivered"]), ("yamada@city-a.lg.jp", True))

    def test_it_refuses_an_address_outside_the_verified_domains(self):
        with SMTPTestServer() as server:
            profile = make_sending_profile(self.ward_a, port=server.port)
            url = reverse("drills:profile-test", kwargs={"profile_id": profile.public_id})
            response = self.client.post(url, {"recipient": "someone@gmail.com"})
            self.assertContains(response, "確認済みドメインのアドレスを入力してください")
            self.assertEqual(server.received, [])
        self.assertFalse(AuditEntry.objects.filter(action="sending_profile.test_sent").exists())

    def test_it_explains_in_japanese_why_the_mail_did_not_go(self):
        profile = make_sending_profile(self.ward_a, port=free_port())
        url = reverse("drills:profile-test", kwargs={"profile_id": profile.public_id})
        response = self.client.post(url, {"recipient": "yamada@city-a.lg.jp"})
        self.assertContains(response, "送信できませんでした")
        self.assertContains(response, "SMTP サーバーに接続できません")
        self.assertFalse(AuditEntry.objects.get(action="sending_profile.test_sent").details["delivered"])

    def test_it_shows_a_refusal_with_the_servers_reply(self):
        with SMTPTestServer() as server:
            server.refuse("yamada@city-a.lg.jp", "550 5.7.1 Relaying denied")
            profile = make_sending_profile(self.ward_a, port=server.port)
            url = reverse("drills:profile-test", kwargs={"profile_id": profile.public_id})
            response = self.client.post(url, {"recipient": "yamada@city-a.lg.jp"})
        self.assertContains(response, "サーバーが受け取りを拒否しました: 550 5.7.1 Relaying denied")
