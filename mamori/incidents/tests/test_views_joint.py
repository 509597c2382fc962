"""Escalation from the case page and the joint CSIRT's pages: the grant, what it shares, who did what."""

from django.core import mail
from django.urls import reverse

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.incidents import actions
from mamori.incidents.models import Escalation, Task, TimelineEntry
from mamori.incidents.tests.makers import make_case, make_duty_contact, make_joint_member, make_joint_organization


class JointViewTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)
        cls.joint = make_joint_organization()
        cls.joint_member = make_joint_member(cls.joint, "t23-csirt")
        make_duty_contact(cls.joint, "duty@t23-csirt.example.jp")
        make_duty_contact(cls.ward_a, "csirt@city-a.lg.jp")

    def setUp(self):
        self.case = make_case(
            self.ward_a, actor=self.csirt, title="ランサムウェアでファイルサーバーが暗号化", reporter=self.person_a
        )
        actions.update_case(self.case, actor=self.csirt, organization=self.ward_a, affected_people=[self.person_a])

    def escalate_from_the_page(self, **data):
        self.login(self.csirt)
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                reverse("incidents:escalate", args=[self.case.public_id]),
                {"joint_organization": self.joint.pk, "note": "暗号化の範囲の調査を支援してください", **data},
            )

    def test_the_ward_escalates_and_the_joint_duty_contact_is_mailed(self):
        response = self.escalate_from_the_page(share_evidence="on")

        self.assertRedirects(response, reverse("incidents:case-detail", args=[self.case.public_id]))
        grant = Escalation.objects.get(case=self.case)
        self.assertFalse(grant.share_people)
        self.assertEqual([message.to for message in mail.outbox], [["duty@t23-csirt.example.jp"]])
        page = self.client.get(reverse("incidents:case-detail", args=[self.case.public_id]))
        self.assertContains(page, "23区共同CSIRT")
        self.assertContains(page, "共有中")

    def test_the_joint_member_sees_the_granted_case_with_the_ward_named_and_no_names(self):
        self.escalate_from_the_page()
        self.login(self.joint_member)

        listing = self.client.get(reverse("incidents:joint-list"))
        page = self.client.get(reverse("incidents:joint-detail", args=[self.case.public_id]))

        self.assertContains(listing, "A区")
        self.assertContains(listing, "ランサムウェアでファイルサーバーが暗号化")
        self.assertContains(page, "暗号化の範囲の調査を支援してください")
        self.assertContains(page, "職員の氏名は共有されていません。")
        self.assertNotContains(page, "山田 太郎")
        # The joint body helps; it does not decide: no state buttons, no edit link.
        self.assertNotContains(page, 'id="to-triage"')
        self.assertNotContains(page, reverse("incidents:case-edit", args=[self.case.public_id]))

    def test_names_are_shown_when_the_grant_shares_people(self):
        self.escalate_from_the_page(share_people="on")
        self.login(self.joint_member)

        page = self.client.get(reverse("incidents:joint-detail", args=[self.case.public_id]))

        self.assertContains(page, "山田 太郎")

    def test_the_joint_bodys_entries_and_tasks_are_named_for_the_ward_and_mailed(self):
        self.escalate_from_the_page()
        mail.outbox.clear()
        self.login(self.joint_member)

        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("incidents:joint-timeline-add", args=[self.case.public_id]),
                {"kind": "action", "at_precision": "exact", "text": "検体を受領し解析を開始"},
            )
            self.client.post(
                reverse("incidents:joint-task-add", args=[self.case.public_id]), {"title": "IoC を各区へ共有"}
            )
        task = Task.objects.get(title="IoC を各区へ共有")
        self.client.post(reverse("incidents:joint-task-done", args=[self.case.public_id, task.public_id]))

        entry = TimelineEntry.objects.get(case=self.case)
        self.assertEqual(entry.author_organization, self.joint)
        task.refresh_from_db()
        self.assertEqual(task.created_by_organization, self.joint)
        self.assertIsNotNone(task.done_at)
        self.assertEqual({tuple(message.to) for message in mail.outbox}, {("csirt@city-a.lg.jp",)})
        self.login(self.csirt)
        ward_page = self.client.get(reverse("incidents:case-detail", args=[self.case.public_id]))
        self.assertContains(ward_page, "検体を受領し解析を開始")
        self.assertContains(ward_page, '<span class="badge badge-warn">23区共同CSIRT</span>', count=2)

    def test_the_joint_body_cannot_complete_the_wards_tasks(self):
        self.escalate_from_the_page()
        ward_task = self.case.tasks.first()
        self.login(self.joint_member)

        page = self.client.get(reverse("incidents:joint-detail", args=[self.case.public_id]))
        response = self.client.post(
            reverse("incidents:joint-task-done", args=[self.case.public_id, ward_task.public_id])
        )

        self.assertNotContains(
            page, reverse("incidents:joint-task-done", args=[self.case.public_id, ward_task.public_id])
        )
        self.assertEqual(response.status_code, 403)
        ward_task.refresh_from_db()
        self.assertIsNone(ward_task.done_at)

    def test_revoking_from_the_page_removes_access_at_once(self):
        self.escalate_from_the_page()
        grant = Escalation.objects.get(case=self.case)

        self.client.post(reverse("incidents:escalation-revoke", args=[self.case.public_id, grant.public_id]))

        grant.refresh_from_db()
        self.assertIsNotNone(grant.revoked_at)
        self.login(self.joint_member)
        self.assertEqual(
            self.client.get(reverse("incidents:joint-detail", args=[self.case.public_id])).status_code, 404
        )

    def test_without_a_grant_the_joint_body_finds_nothing(self):
        self.login(self.joint_member)
        self.assertRedirects(self.client.get(reverse("incidents:case-list")), reverse("incidents:joint-list"))

        self.assertNotContains(self.client.get(reverse("incidents:joint-list")), "ランサムウェア")
        self.assertEqual(
            self.client.get(reverse("incidents:joint-detail", args=[self.case.public_id])).status_code, 404
        )
        self.assertEqual(self.client.get(reverse("incidents:case-detail", args=[self.case.public_id])).status_code, 404)

    def test_charlie_cannot_escalate_or_revoke_ward_as_case(self):
        self.escalate_from_the_page()
        grant = Escalation.objects.get(case=self.case)
        self.login(self.charlie)

        escalate = self.client.post(
            reverse("incidents:escalate", args=[self.case.public_id]), {"joint_organization": self.joint.pk}
        )
        revoke = self.client.post(reverse("incidents:escalation-revoke", args=[self.case.public_id, grant.public_id]))

        self.assertEqual((escalate.status_code, revoke.status_code), (404, 404))
        grant.refresh_from_db()
        self.assertIsNone(grant.revoked_at)
