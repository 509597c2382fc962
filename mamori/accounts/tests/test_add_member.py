from io import StringIO

from django.core.management import CommandError, call_command

from mamori.accounts.models import User
from mamori.accounts.tests.makers import make_device
from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase


def run(*args) -> str:
    out = StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


class AddMemberCommandTests(BaseTestCase):
    def test_it_creates_a_user_and_prints_a_random_password_once(self):
        output = run("erin", "--org", "ward-a", "--role", "csirt")
        user = User.objects.get(username="erin")
        password = output.split("初期パスワード（この一度だけ表示します）: ")[1].split()[0]
        self.assertTrue(user.check_password(password))
        self.assertGreaterEqual(len(password), 16)
        self.assertTrue(Membership.objects.filter(user=user, organization=self.ward_a, role="csirt").exists())
        self.assertIn("多要素認証", output)
        entry = AuditEntry.objects.get(action="member.added")
        self.assertEqual((entry.organization, entry.target, entry.details["role"]), (self.ward_a, "erin", "csirt"))

    def test_with_an_email_it_points_to_password_reset_instead(self):
        output = run("erin", "--org", "ward-a", "--role", "auditor", "--email", "erin@city-a.lg.jp")
        self.assertNotIn("初期パスワード", output)
        self.assertIn("パスワードを忘れた場合", output)
        user = User.objects.get(username="erin")
        self.assertEqual(user.email, "erin@city-a.lg.jp")
        self.assertTrue(user.has_usable_password())

    def test_it_adds_a_role_to_an_existing_user_without_touching_the_password(self):
        output = run("bob", "--org", "ward-b", "--role", "auditor")
        self.assertNotIn("初期パスワード", output)
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password("correct-horse-42"))
        self.assertTrue(Membership.objects.filter(user=self.bob, organization=self.ward_b).exists())

    def test_it_says_so_when_the_membership_exists(self):
        output = run("bob", "--org", "ward-a", "--role", "auditor")
        self.assertIn("すでに", output)
        self.assertFalse(AuditEntry.objects.filter(action="member.added").exists())

    def test_a_dept_manager_gets_the_department(self):
        run("dana", "--org", "ward-a", "--role", "dept_manager", "--department", "区民部/税務課")
        membership = Membership.objects.get(user__username="dana")
        self.assertEqual(membership.department, self.tax)

    def test_a_dept_manager_needs_a_department(self):
        with self.assertRaisesMessage(CommandError, "--department"):
            run("dana", "--org", "ward-a", "--role", "dept_manager")

    def test_it_rejects_an_unknown_organization_or_department(self):
        with self.assertRaisesMessage(CommandError, "組織コード nowhere"):
            run("dana", "--org", "nowhere", "--role", "auditor")
        with self.assertRaisesMessage(CommandError, "所属 無い部"):
            run("dana", "--org", "ward-a", "--role", "dept_manager", "--department", "無い部")
        self.assertFalse(User.objects.filter(username="dana").exists())

    def test_it_rejects_an_unknown_role(self):
        with self.assertRaises(CommandError):
            run("dana", "--org", "ward-a", "--role", "king")


class ResetMFACommandTests(BaseTestCase):
    def test_it_removes_the_device_and_audits(self):
        make_device(self.alice)
        out = StringIO()
        call_command("reset_mfa", "alice", stdout=out)
        self.assertFalse(hasattr(User.objects.get(pk=self.alice.pk), "totp_device"))
        self.assertTrue(AuditEntry.objects.filter(action="mfa.reset", organization=self.ward_a).exists())

    def test_it_rejects_an_unknown_user(self):
        with self.assertRaises(CommandError):
            call_command("reset_mfa", "nobody", stdout=StringIO())
