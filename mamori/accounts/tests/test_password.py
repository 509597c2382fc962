import re
from datetime import datetime, timedelta
from unittest import mock

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from mamori.accounts.mfa import SESSION_MFA_KEY
from mamori.accounts.tests.makers import make_device
from mamori.core.models import AuditEntry
from mamori.core.tests.base import BaseTestCase

NEW_PASSWORD = "shiny-new-passphrase-7"


@override_settings(SITE_URL="https://mamori.example.lg.jp", PASSWORD_RESET_TIMEOUT=3600)
class PasswordResetTests(BaseTestCase):
    def request_reset(self, email):
        return self.client.post(reverse("accounts:password-reset"), {"email": email})

    def reset_link(self) -> str:
        match = re.search(r"https://mamori\.example\.lg\.jp(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
        return match.group(1)

    def test_it_mails_a_japanese_reset_link_in_text_and_html(self):
        response = self.request_reset("bob@example.jp")
        self.assertRedirects(response, reverse("accounts:password-reset-done"))
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["bob@example.jp"])
        self.assertEqual(message.subject, "【mamori】パスワード再設定のご案内")
        self.assertIn("bob 様", message.body)
        self.assertIn("有効期限は 60 分", message.body)
        self.assertIn("確認コードが必要", message.body)
        html, mimetype = message.alternatives[0]
        self.assertEqual(mimetype, "text/html")
        self.assertIn(f'href="https://mamori.example.lg.jp{self.reset_link()}"', html)

    def test_it_does_not_reveal_whether_an_address_exists(self):
        known = self.request_reset("bob@example.jp")
        unknown = self.request_reset("nobody@example.jp")
        self.assertEqual(known["Location"], unknown["Location"])
        self.assertEqual(len(mail.outbox), 1)
        page = self.client.get(reverse("accounts:password-reset-done"))
        self.assertContains(page, "登録されていれば")

    def test_it_audits_requests_known_and_unknown(self):
        self.request_reset("bob@example.jp")
        self.request_reset("nobody@example.jp")
        self.assertTrue(AuditEntry.objects.filter(action="password_reset.requested", organization=self.ward_a).exists())
        unknown = AuditEntry.objects.get(action="password_reset.requested", organization=None)
        self.assertEqual(unknown.target, "nobody@example.jp")

    def test_the_link_sets_a_new_password_once(self):
        self.request_reset("bob@example.jp")
        link = self.reset_link()
        form_page = self.client.get(link, follow=True)
        self.assertContains(form_page, "新しいパスワードの設定")
        response = self.client.post(
            form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        self.assertRedirects(response, reverse("accounts:password-reset-complete"))
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password(NEW_PASSWORD))
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertTrue(AuditEntry.objects.filter(action="password_reset.completed", organization=self.ward_a).exists())
        self.assertContains(self.client.get(link, follow=True), "このリンクは無効です")

    def test_the_link_is_valid_for_the_timeout_only(self):
        self.request_reset("bob@example.jp")
        link = self.reset_link()
        # The token generator counts in naive local time.
        for seconds, valid in ((3500, True), (3601, False)):
            later = datetime.now() + timedelta(seconds=seconds)
            with mock.patch("django.contrib.auth.tokens.PasswordResetTokenGenerator._now", return_value=later):
                response = self.client.get(link, follow=True)
            with self.subTest(seconds=seconds):
                self.assertEqual("このリンクは無効です" not in response.content.decode(), valid)

    def test_a_user_with_mfa_still_needs_it_after_a_reset(self):
        make_device(self.alice)
        self.client.post(reverse("accounts:password-reset"), {"email": "alice@example.jp"})
        form_page = self.client.get(self.reset_link(), follow=True)
        self.client.post(
            form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        response = self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": NEW_PASSWORD})
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))
        self.assertNotIn(SESSION_MFA_KEY, self.client.session)

    def test_it_rejects_a_weak_new_password(self):
        self.request_reset("bob@example.jp")
        form_page = self.client.get(self.reset_link(), follow=True)
        response = self.client.post(form_page.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(AuditEntry.objects.filter(action="password_reset.completed").exists())


class PasswordChangeTests(BaseTestCase):
    def test_it_changes_the_password_and_keeps_the_session(self):
        self.login(self.alice)
        response = self.client.post(
            reverse("accounts:password-change"),
            {"old_password": "correct-horse-42", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        self.assertRedirects(response, reverse("accounts:password-change-done"))
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(NEW_PASSWORD))
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action="password.changed", organization=self.ward_a).exists())

    def test_it_needs_the_old_password(self):
        self.login(self.alice)
        response = self.client.post(
            reverse("accounts:password-change"),
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        self.assertEqual(response.status_code, 200)
        self.alice.refresh_from_db()
        self.assertFalse(self.alice.check_password(NEW_PASSWORD))

    def test_it_needs_a_login(self):
        response = self.client.get(reverse("accounts:password-change"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:login")))

    def test_an_mfa_role_needs_mfa_first(self):
        self.login(self.alice, mfa=False)
        response = self.client.get(reverse("accounts:password-change"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-setup")))
