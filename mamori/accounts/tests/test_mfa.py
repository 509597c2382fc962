from datetime import timedelta
from unittest import mock

import pyotp
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.accounts.mfa import RECOVERY_CODE_COUNT, SESSION_MFA_KEY, replace_recovery_codes
from mamori.accounts.models import RecoveryCode, TOTPDevice, hash_code
from mamori.accounts.tests.makers import code_for, make_device
from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user

PASSWORD = "correct-horse-42"


class EnrolmentTests(BaseTestCase):
    def setUp(self):
        self.login(self.alice, mfa=False)

    def enrol(self):
        self.client.get(reverse("accounts:mfa-setup"))
        device = TOTPDevice.objects.get(user=self.alice)
        return device, self.client.post(reverse("accounts:mfa-setup"), {"code": code_for(device), "next": "/people/"})

    def test_it_shows_a_qr_code_and_the_secret_for_manual_entry(self):
        response = self.client.get(reverse("accounts:mfa-setup"))
        device = TOTPDevice.objects.get(user=self.alice)
        self.assertContains(response, '<svg role="img"')
        self.assertContains(response, device.secret[:4])
        self.assertContains(response, "必須")
        self.assertNotContains(response, "style=")
        self.assertIn("no-store", response["Cache-Control"])

    def test_it_keeps_the_seed_encrypted_at_rest(self):
        self.client.get(reverse("accounts:mfa-setup"))
        device = TOTPDevice.objects.get(user=self.alice)
        self.assertNotIn(device.secret, device.sealed_secret)

    def test_a_reload_keeps_the_same_secret(self):
        self.client.get(reverse("accounts:mfa-setup"))
        first = TOTPDevice.objects.get(user=self.alice).secret
        self.client.get(reverse("accounts:mfa-setup"))
        self.assertEqual(TOTPDevice.objects.get(user=self.alice).secret, first)

    def test_a_current_code_confirms_the_device_and_shows_recovery_codes_once(self):
        device, response = self.enrol()
        device.refresh_from_db()
        self.assertTrue(device.is_confirmed)
        codes = response.context["codes"]
        self.assertEqual(len(codes), RECOVERY_CODE_COUNT)
        self.assertContains(response, codes[0])
        self.assertContains(response, 'href="/people/"')
        self.assertTrue(self.client.session[SESSION_MFA_KEY])
        stored = set(RecoveryCode.objects.filter(user=self.alice).values_list("code_hash", flat=True))
        self.assertEqual(stored, {hash_code(code.replace("-", "")) for code in codes})
        self.assertNotContains(self.client.get(reverse("accounts:security")), codes[0])

    def test_it_audits_the_enrolment(self):
        self.enrol()
        self.assertTrue(AuditEntry.objects.filter(action="mfa.enrolled", organization=self.ward_a).exists())

    def test_a_wrong_code_does_not_confirm(self):
        self.client.get(reverse("accounts:mfa-setup"))
        response = self.client.post(reverse("accounts:mfa-setup"), {"code": "000000"})
        self.assertContains(response, "確認コードが正しくありません")
        self.assertFalse(TOTPDevice.objects.get(user=self.alice).is_confirmed)
        self.assertNotIn(SESSION_MFA_KEY, self.client.session)

    def test_the_mfa_role_reaches_pages_after_enrolment(self):
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 302)
        self.enrol()
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)

    def test_a_confirmed_device_cannot_be_replaced_without_passing_it(self):
        make_device(self.alice)
        response = self.client.get(reverse("accounts:mfa-setup"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))

    def test_a_user_without_an_mfa_role_may_enrol_voluntarily(self):
        self.login(self.bob, mfa=False)
        response = self.client.get(reverse("accounts:mfa-setup"))
        self.assertContains(response, "ログインのたびに")
        self.assertNotContains(response, "必須です")


class VerificationTests(BaseTestCase):
    def setUp(self):
        self.device = make_device(self.alice)
        self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": PASSWORD})

    def verify(self, code, **extra):
        return self.client.post(reverse("accounts:mfa-verify"), {"code": code, **extra})

    def test_password_alone_reaches_nothing(self):
        response = self.client.get(reverse("core:people"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))

    def test_the_security_page_needs_mfa_too(self):
        response = self.client.get(reverse("accounts:security"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))

    def test_a_current_code_passes_and_cycles_the_session_key(self):
        before = self.client.session.session_key
        response = self.verify(code_for(self.device), next="/people/")
        self.assertRedirects(response, "/people/", fetch_redirect_response=False)
        self.assertNotEqual(self.client.session.session_key, before)
        self.assertTrue(self.client.session[SESSION_MFA_KEY])
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action="mfa.verified", organization=self.ward_a).exists())

    def test_it_ignores_an_offsite_next(self):
        response = self.verify(code_for(self.device), next="//evil.example/")
        self.assertRedirects(response, reverse("core:home"), fetch_redirect_response=False)

    def test_it_accepts_the_neighbouring_steps(self):
        self.assertEqual(self.verify(code_for(self.device, steps_from_now=-1)).status_code, 302)

    def test_it_rejects_a_code_two_steps_old(self):
        response = self.verify(code_for(self.device, steps_from_now=-2))
        self.assertContains(response, "確認コードが正しくないか、すでに使われています。")

    def test_a_code_is_accepted_once_only(self):
        code = code_for(self.device)
        self.verify(code)
        self.client.post(reverse("accounts:logout"))
        self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": PASSWORD})
        response = self.verify(code)
        self.assertContains(response, "すでに使われています")
        self.assertNotIn(SESSION_MFA_KEY, self.client.session)

    def test_an_older_code_after_a_newer_one_is_rejected(self):
        self.device.last_used_step = pyotp.TOTP(self.device.secret).timecode(timezone.now())
        self.device.save()
        self.assertEqual(self.verify(code_for(self.device, steps_from_now=-1)).status_code, 200)

    def test_a_recovery_code_works_once(self):
        codes = replace_recovery_codes(self.alice)
        self.assertEqual(self.verify(codes[0].upper()).status_code, 302)
        self.assertTrue(AuditEntry.objects.filter(action="mfa.recovery_code_used").exists())
        self.client.post(reverse("accounts:logout"))
        self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": PASSWORD})
        self.assertContains(self.verify(codes[0]), "すでに使われています")
        self.assertEqual(self.verify(codes[1]).status_code, 302)

    def test_wrong_codes_are_audited_and_count_toward_the_lockout(self):
        with override_settings(LOGIN_FAILURE_LIMIT=3):
            self.verify("111111")
            self.verify("222222")
            response = self.verify("333333")
            self.assertContains(response, "一時的にログインを受け付けていません", status_code=429)
            self.assertEqual(self.verify(code_for(self.device)).status_code, 429)
        self.assertEqual(AuditEntry.objects.filter(action="mfa.failed").count(), 3)
        self.assertTrue(AuditEntry.objects.filter(action="login.locked").exists())

    def test_re_entering_the_password_does_not_reset_mfa_failures(self):
        with override_settings(LOGIN_FAILURE_LIMIT=3):
            self.verify("111111")
            self.verify("222222")
            self.client.post(reverse("accounts:login"), {"identifier": "alice", "password": PASSWORD})
            self.assertEqual(self.verify("333333").status_code, 429)

    def test_anonymous_visitors_are_sent_to_login(self):
        self.client.logout()
        response = self.client.get(reverse("accounts:mfa-verify"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:login")))


class VoluntaryMFATests(BaseTestCase):
    def test_a_user_who_enrolled_must_pass_mfa_at_login(self):
        device = make_device(self.bob)
        response = self.client.post(reverse("accounts:login"), {"identifier": "bob", "password": PASSWORD})
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-verify")))
        self.assertTrue(self.client.get(reverse("core:people"))["Location"].startswith(reverse("accounts:mfa-verify")))
        self.client.post(reverse("accounts:mfa-verify"), {"code": code_for(device)})
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)

    def test_a_user_without_device_or_role_needs_no_mfa(self):
        self.login(self.bob, mfa=False)
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)


class SecurityPageMFATests(BaseTestCase):
    def setUp(self):
        self.device = make_device(self.alice)
        self.login(self.alice)

    def test_it_shows_the_mfa_status(self):
        response = self.client.get(reverse("accounts:security"))
        self.assertContains(response, "設定済み")
        self.assertContains(response, reverse("accounts:password-change"))

    def test_regenerating_recovery_codes_needs_a_current_code(self):
        old = replace_recovery_codes(self.alice)
        response = self.client.post(reverse("accounts:recovery-codes"), {"code": "000000"})
        self.assertRedirects(response, reverse("accounts:security"), fetch_redirect_response=False)
        response = self.client.post(reverse("accounts:recovery-codes"), {"code": code_for(self.device)})
        new = response.context["codes"]
        self.assertEqual(len(new), RECOVERY_CODE_COUNT)
        self.assertFalse(RecoveryCode.objects.filter(code_hash=hash_code(old[0].replace("-", ""))).exists())
        self.assertTrue(AuditEntry.objects.filter(action="mfa.recovery_codes_regenerated").exists())

    def test_resetting_mfa_sends_an_mfa_role_back_to_enrolment(self):
        response = self.client.post(reverse("accounts:mfa-reset"), {"code": code_for(self.device)})
        self.assertRedirects(response, reverse("accounts:mfa-setup"), fetch_redirect_response=False)
        self.assertFalse(TOTPDevice.objects.filter(user=self.alice).exists())
        self.assertTrue(self.client.get(reverse("core:people"))["Location"].startswith(reverse("accounts:mfa-setup")))
        self.assertTrue(AuditEntry.objects.filter(action="mfa.reset", organization=self.ward_a).exists())

    def test_resetting_mfa_needs_a_valid_code(self):
        self.client.post(reverse("accounts:mfa-reset"), {"code": "000000"})
        self.assertTrue(TOTPDevice.objects.filter(user=self.alice).exists())


class ExpiredSessionTests(BaseTestCase):
    def test_an_idle_session_expires_after_eight_hours(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)
        later = timezone.now() + timedelta(hours=8, minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = self.client.get(reverse("core:people"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:login")))

    def test_activity_keeps_the_session_alive(self):
        self.login(self.bob)
        start = timezone.now()
        for hours in (5, 10):
            with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=hours)):
                self.assertEqual(self.client.get(reverse("core:people")).status_code, 200)

    def test_the_cookie_ends_with_the_browser(self):
        response = self.client.post(reverse("accounts:login"), {"identifier": "bob", "password": PASSWORD})
        self.assertEqual(response.cookies["sessionid"]["expires"], "")
        self.assertEqual(response.cookies["sessionid"]["max-age"], "")


class MFARoleMatrixTests(BaseTestCase):
    def test_every_mfa_role_is_held_at_enrolment(self):
        for role in Membership.Role.values:
            user = make_user(f"user-{role}", organization=self.ward_a, role=role)
            self.login(user, mfa=False)
            response = self.client.get(reverse("core:people"))
            with self.subTest(role=role):
                if role in Membership.MFA_ROLES:
                    self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-setup")))
                else:
                    self.assertNotEqual(response.status_code, 302)


class RecipientPagesNeedNoMFATests(BaseTestCase):
    def test_an_admin_owing_mfa_still_reaches_recipient_pages_but_not_learning_admin(self):
        from mamori.accounts.middleware import is_exempt

        self.assertTrue(is_exempt("/l/AAAAAAAAAAAAAAAAAAAAAA/"))
        self.assertTrue(is_exempt("/report/ward-a/"))
        self.assertFalse(is_exempt("/l/manage/"))
        self.assertFalse(is_exempt("/reporting/"))
        self.login(self.alice, mfa=False)
        self.assertEqual(self.client.get("/l/manage/").status_code, 302)
