"""The demo ward: ~300 staff in a 部›課›係 tree, managers along it, addresses in its domain, repeatable."""

from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.test import override_settings

from mamori.core.demo import DEMO_CODE, DEMO_DOMAIN, DEMO_STAFF, prepare_demo, seed_demo_ward
from mamori.core.models import AuditEntry, Department, Membership, Person
from mamori.core.tests.base import BaseTestCase
from mamori.incidents import measures
from mamori.incidents.models import Case, Task


class DemoSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.logins = {login.username: login for login in prepare_demo()}
        cls.ward = seed_demo_ward()
        cls.people = Person.objects.filter(organization=cls.ward).select_related("department", "manager__department")

    def test_it_seeds_about_300_people(self):
        self.assertEqual(self.ward.code, DEMO_CODE)
        self.assertEqual(self.people.count(), DEMO_STAFF)

    def test_seeding_again_adds_nobody(self):
        departments = Department.objects.filter(organization=self.ward).count()
        seed_demo_ward()
        self.assertEqual(self.people.count(), DEMO_STAFF)
        self.assertEqual(Department.objects.filter(organization=self.ward).count(), departments)
        self.assertEqual(self.ward.domains.count(), 1)
        self.assertEqual(AuditEntry.objects.filter(organization=self.ward, action="demo.seeded").count(), 1)

    def test_the_csirt_finds_a_few_cases_in_every_stage_and_a_second_start_adds_none(self):
        cases = {case.title: case for case in Case.objects.filter(organization=self.ward)}
        self.assertEqual(len(cases), 3)
        closed = cases["請求書を装ったメールの添付ファイルを開いた"]
        self.assertEqual((closed.state, closed.resolution), (Case.State.CLOSED, Case.Resolution.RESOLVED))
        # Every step of the way is a transition; the case's MTTR runs from its detection, 9 hours before.
        self.assertEqual(closed.transitions.count(), 7)
        self.assertGreaterEqual(
            measures.measure(Case.objects.filter(pk=closed.pk)).total.mttr.mean.total_seconds(), 9 * 3600
        )
        lost = cases["参加者名簿を保存した USB メモリの紛失"]
        self.assertTrue(lost.is_major)
        self.assertTrue(lost.tasks.filter(kind__in=Task.LEGAL_KINDS).exists())

        prepare_demo()

        self.assertEqual(Case.objects.filter(organization=self.ward).count(), 3)

    def test_the_department_tree_is_three_levels_deep(self):
        departments = Department.objects.filter(organization=self.ward)
        self.assertEqual(departments.aggregate(Max("depth"))["depth__max"], 2)
        document_team = departments.get(path="総務部/総務課/文書係")
        self.assertEqual(document_team.parent.path, "総務部/総務課")
        self.assertEqual(document_team.parent.parent.path, "総務部")
        for name in ["区民部/戸籍住民課", "区民部/税務課", "教育委員会事務局", "会計管理室", "区議会事務局"]:
            self.assertTrue(departments.filter(path=name).exists(), name)

    def test_every_address_is_in_the_verified_domain(self):
        self.assertEqual(self.ward.verified_domain_names(), {DEMO_DOMAIN})
        self.assertTrue(all(self.ward.accepts_email(email) for email in self.people.values_list("email", flat=True)))

    def test_managers_follow_the_tree(self):
        for person in self.people:
            with self.subTest(person=person.name, position=person.position):
                if person.department.depth == 0:
                    self.assertIsNone(person.manager)
                elif person.position in {"課長", "所長", "指導室長", "係長"}:
                    self.assertEqual(person.manager.department, person.department.parent)
                else:
                    self.assertEqual(person.manager.department, person.department)
                    self.assertEqual(person.manager.position, "係長")

    def test_employment_types_are_mixed(self):
        counts = {kind: self.people.filter(employment_type=kind).count() for kind in Person.EmploymentType.values}
        self.assertGreater(counts[Person.EmploymentType.REGULAR], DEMO_STAFF // 2)
        for kind in [Person.EmploymentType.FISCAL_YEAR, Person.EmploymentType.DISPATCHED]:
            self.assertGreater(counts[kind], 5, kind)
        self.assertGreater(counts[Person.EmploymentType.CONTRACTOR], 0)

    def test_names_come_with_kana(self):
        self.assertFalse(self.people.filter(name_kana="").exists())
        self.assertEqual(self.people.values("name").distinct().count(), DEMO_STAFF)

    def test_the_admin_login_must_enrol_mfa_and_the_auditor_need_not(self):
        admin, auditor = self.logins["admin"], self.logins["auditor"]
        self.assertEqual(admin.role, Membership.Role.SECURITY_ADMIN)
        self.assertTrue(admin.needs_mfa)
        self.assertEqual(auditor.role, Membership.Role.AUDITOR)
        self.assertFalse(auditor.needs_mfa)
        for login in (admin, auditor):
            user = authenticate(username=login.username, password=login.password)
            self.assertIsNotNone(user, login.username)
            self.assertTrue(user.memberships.filter(organization=self.ward, role=login.role).exists())

    def test_the_joint_login_is_a_joint_admin_of_the_demo_ward_and_must_enrol_mfa(self):
        joint = self.logins["joint"]
        self.assertEqual(joint.role, Membership.Role.JOINT_ADMIN)
        self.assertTrue(joint.needs_mfa)
        user = authenticate(username=joint.username, password=joint.password)
        self.assertTrue(user.memberships.filter(organization=self.ward, role=Membership.Role.JOINT_ADMIN).exists())

    def test_each_start_issues_new_passwords(self):
        old_password = self.logins["admin"].password
        new_password = {login.username: login for login in prepare_demo()}["admin"].password
        self.assertNotEqual(new_password, old_password)
        self.assertIsNone(authenticate(username="admin", password=old_password))
        self.assertIsNotNone(authenticate(username="admin", password=new_password))
        self.assertEqual(Membership.objects.filter(user__username="admin").count(), 1)

    def test_other_wards_are_untouched(self):
        self.assertEqual(Person.objects.filter(organization=self.ward_a).count(), 1)
        self.assertFalse(Membership.objects.filter(user=self.charlie, organization=self.ward).exists())


class SeedDemoCommandTests(BaseTestCase):
    @override_settings(DEMO=True)
    def test_it_seeds_and_prints_both_logins(self):
        output = StringIO()
        call_command("seed_demo", stdout=output)
        self.assertIn("デモ区を用意しました", output.getvalue())
        self.assertRegex(output.getvalue(), r"admin\s+パスワード \S+.*二要素認証（TOTP）の登録")
        self.assertRegex(output.getvalue(), r"auditor\s+パスワード \S+")
        self.assertRegex(output.getvalue(), r"joint\s+パスワード \S+.*二要素認証（TOTP）の登録")

    @override_settings(DEMO=False, DEBUG=False)
    def test_it_refuses_outside_demo_mode(self):
        with self.assertRaisesMessage(CommandError, "MAMORI_DEMO=1"):
            call_command("seed_demo")
        self.assertFalse(Person.objects.filter(organization__code=DEMO_CODE).exists())
