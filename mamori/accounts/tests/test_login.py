from datetime import timedelta
from unittest import mock

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.accounts.mfa import SESSION_MFA_KEY
from mamori.accounts.models import LoginFailure
from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user

PASSWORD = "correct-horse-42"


class LoginTests(BaseTestCase):
    def post_login(self, identifier, password=PASSWORD, **extra):
        return self.client.post(reverse("accounts:login"), {"identifier": identifier, "password": password, **extra})

    def test_it_shows_the_japanese_login_form(self):
        response = self.client.get(reverse("accounts:login"))
        self.assertContains(response, "ユーザー名またはメールアドレス")
        self.assertContains(response, "パスワードを忘れた場合")

    def test_it_logs_in_by_username(self):
        response = self.post_login("bob")
        self.assertRedirects(response, reverse("core:home"), fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.bob.pk)

    def test_it_logs_in_by_email_in_any_case(self):
        response = self.post_login("BOB@example.jp")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.bob.pk)

    def test_it_rejects_a_wrong_password(self):
        response = self.post_login("bob", "wrong-password")
        self.assertContains(response, "ユーザー名（またはメールアドレス）かパスワードが正しくありません。")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_unknown_and_known_users_get_the_same_message(self):
        known = self.post_login("bob", "wrong-password")
        unknown = self.post_login("nobody", "wrong-password")
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(known.context["form"].non_field_errors(), unknown.context["form"].non_field_errors())

    def test_it_refuses_an_inactive_user(self):
        self.bob.is_active = False
        self.bob.save()
        response = self.post_login("bob")
        self.assertContains(response, "パスワードが正しくありません")

    def test_it_follows_a_safe_next(self):
        response = self.post_login("bob", next="/people/?q=x")
        self.assertRedirects(response, "/people/?q=x", fetch_redirect_response=False)

    def test_it_ignores_an_offsite_next(self):
        response = self.post_login("bob", next="https://evil.example/")
        self.assertRedirects(response, reverse("core:home"), fetch_redirect_response=False)

    def test_it_sends_an_mfa_role_to_verification_keeping_next(self):
        response = self.post_login("alice", next="/people/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))
        self.assertIn("next=%2Fpeople%2F", response["Location"])
        self.assertNotIn(SESSION_MFA_KEY, self.client.session)

    def test_logout_needs_post(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("accounts:logout")).status_code, 405)
        self.client.post(reverse("accounts:logout"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_audits_success_once_per_organization(self):
        Membership.objects.create(user=self.bob, organization=self.ward_b, role=Membership.Role.AUDITOR)
        self.post_login("bob")
        entries = AuditEntry.objects.filter(action="login.succeeded", actor=self.bob)
        self.assertEqual({e.organization for e in entries}, {self.ward_a, self.ward_b})

    def test_it_audits_a_failure_of_an_unknown_user_without_organization(self):
        self.post_login("nobody", "x")
        entry = AuditEntry.objects.get(action="login.failed")
        self.assertIsNone(entry.organization)
        self.assertEqual(entry.target, "nobody")

    def test_it_audits_a_failure_of_a_known_user_in_their_organization(self):
        self.post_login("bob", "x")
        entry = AuditEntry.objects.get(action="login.failed")
        self.assertEqual(entry.organization, self.ward_a)
        self.assertEqual(entry.client_address, "127.0.0.1")


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600, LOGIN_FAILURE_LIMIT_PER_ADDRESS=12)
class LockoutTests(BaseTestCase):
    def post_login(self, identifier, password="wrong-password", address="10.0.0.1"):
        return self.client.post(
            reverse("accounts:login"), {"identifier": identifier, "password": password}, REMOTE_ADDR=address
        )

    def fail(self, identifier, times, address="10.0.0.1"):
        for _ in range(times):
            response = self.post_login(identifier, address=address)
        return response

    def test_it_locks_the_account_at_the_limit_with_a_japanese_message(self):
        response = self.fail("bob", 3)
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "一時的にログインを受け付けていません", status_code=429)
        self.assertContains(response, "約10分後", status_code=429)

    def test_a_locked_account_refuses_even_the_right_password(self):
        self.fail("bob", 3)
        response = self.post_login("bob", PASSWORD, address="10.0.0.2")
        self.assertEqual(response.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_username_and_email_share_one_lock(self):
        self.fail("bob", 2)
        self.fail("bob@example.jp", 1)
        self.assertEqual(self.post_login("bob", PASSWORD).status_code, 429)

    def test_an_unknown_username_locks_exactly_like_a_real_one(self):
        known = self.fail("bob", 3)
        unknown = self.fail("nobody", 3, address="10.0.0.2")
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(known.context["form"].non_field_errors(), unknown.context["form"].non_field_errors())

    def test_it_audits_the_lockout_once(self):
        self.fail("bob", 3)
        self.post_login("bob")
        self.assertEqual(AuditEntry.objects.filter(action="login.locked", organization=self.ward_a).count(), 1)
        self.assertEqual(AuditEntry.objects.filter(action="login.failed").count(), 3)

    def test_it_unlocks_after_the_window(self):
        self.fail("bob", 3)
        later = timezone.now() + timedelta(seconds=601)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = self.post_login("bob", PASSWORD)
        self.assertEqual(response.status_code, 302)

    def test_it_does_not_lock_other_accounts(self):
        self.fail("bob", 3)
        self.assertEqual(self.post_login("alice", PASSWORD, address="10.0.0.2").status_code, 302)

    def test_success_clears_the_users_failures(self):
        self.fail("bob", 2)
        self.post_login("bob", PASSWORD)
        self.assertFalse(LoginFailure.objects.filter(username="bob").exists())
        self.client.logout()
        self.fail("bob", 2)
        self.assertEqual(self.post_login("bob", PASSWORD).status_code, 302)

    def test_it_throttles_one_address_across_many_usernames(self):
        for index in range(12):
            response = self.post_login(f"guess{index}")
        self.assertContains(response, "この端末（ネットワーク）からのログインの失敗が多いため", status_code=429)
        self.assertEqual(self.post_login("bob", PASSWORD).status_code, 429)
        self.assertEqual(self.post_login("bob", PASSWORD, address="10.0.0.9").status_code, 302)

    def test_it_prunes_failures_older_than_the_window(self):
        LoginFailure.objects.create(username="old", at=timezone.now() - timedelta(days=1))
        self.fail("bob", 1)
        self.assertFalse(LoginFailure.objects.filter(username="old").exists())


class MFARoleLoginTests(BaseTestCase):
    def test_an_unenrolled_mfa_role_is_sent_to_enrolment_until_enrolled(self):
        self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": PASSWORD})
        response = self.client.get(reverse("core:people"))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-setup")))

    def test_a_role_without_mfa_goes_straight_in(self):
        user = make_user("dana", organization=self.ward_a, role=Membership.Role.AUDITOR)
        self.client.post(reverse("accounts:login"), {"identifier": user.username, "password": PASSWORD})
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)
