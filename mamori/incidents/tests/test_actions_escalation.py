"""Escalation to the joint CSIRT: what the grant lets the joint body do, and revoking it."""

import socket

from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import TestCase, override_settings

from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions
from mamori.incidents.actions import IncidentActionError
from mamori.incidents.models import Case, Escalation
from mamori.incidents.tests.makers import make_case, make_duty_contact, make_joint_member, make_joint_organization


class EscalationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.joint = make_joint_organization()
        cls.other_joint = make_joint_organization("other-joint", "別の共同組織")
        cls.alice = make_user("alice", organization=cls.ward)
        cls.joint_member = make_joint_member(cls.joint)
        make_duty_contact(cls.joint, "duty@joint.example.jp")
        make_duty_contact(cls.ward, "csirt@city-a.lg.jp")

    def setUp(self):
        self.case = make_case(self.ward, actor=self.alice, title="ランサムウェア感染の疑い")

    def escalate(self, **kwargs) -> Escalation:
        with self.captureOnCommitCallbacks(execute=True):
            return actions.escalate(self.case, self.joint, actor=self.alice, organization=self.ward, **kwargs)

    def test_without_a_grant_the_joint_body_sees_and_does_nothing(self):
        self.assertFalse(actions.joint_cases(self.joint).exists())
        with self.assertRaises(PermissionDenied):
            actions.add_timeline_entry(self.case, actor=self.joint_member, organization=self.joint, text="確認")

    def test_a_grant_lets_the_joint_body_see_the_case_and_add_entries_and_tasks(self):
        self.escalate(note="暗号化の範囲の調査を支援してください")
        self.assertEqual(list(actions.joint_cases(self.joint)), [self.case])
        self.assertFalse(actions.joint_cases(self.other_joint).exists())
        self.assertFalse(actions.joint_cases(self.ward_b).exists())
        entry = actions.add_timeline_entry(
            self.case, actor=self.joint_member, organization=self.joint, text="検体を受領し解析を開始"
        )
        task = actions.add_task(self.case, actor=self.joint_member, organization=self.joint, title="IoC を共有する")
        # The ward sees who did what: the joint body is named on both.
        self.assertEqual((entry.author, entry.author_organization), (self.joint_member, self.joint))
        self.assertEqual(task.created_by_organization, self.joint)
        actions.complete_task(task, actor=self.joint_member, organization=self.joint)

    def test_the_joint_body_cannot_change_state_data_evidence_or_the_wards_tasks(self):
        self.escalate()
        ward_task = self.case.tasks.first()
        with self.assertRaises(PermissionDenied):
            actions.transition(self.case, "triage", actor=self.joint_member, organization=self.joint)
        with self.assertRaises(PermissionDenied):
            actions.update_case(self.case, actor=self.joint_member, organization=self.joint, title="変更")
        with self.assertRaises(PermissionDenied):
            actions.complete_task(ward_task, actor=self.joint_member, organization=self.joint)
        with self.assertRaises(PermissionDenied):
            actions.register_evidence(
                self.case, actor=self.joint_member, organization=self.joint, description="x", sha256="e" * 64
            )
        with self.assertRaises(PermissionDenied):
            actions.escalate(self.case, self.other_joint, actor=self.joint_member, organization=self.joint)
        self.case.refresh_from_db()
        self.assertEqual((self.case.state, self.case.title), ("new", "ランサムウェア感染の疑い"))

    def test_another_ward_gets_nothing_even_after_the_grant(self):
        self.escalate()
        with self.assertRaises(PermissionDenied):
            actions.add_timeline_entry(self.case, actor=self.alice, organization=self.ward_b, text="のぞき見")
        with self.assertRaises(PermissionDenied):
            actions.escalate(self.case, self.joint, actor=self.alice, organization=self.ward_b)

    def test_revoking_removes_access_at_once(self):
        escalation = self.escalate()
        with self.captureOnCommitCallbacks(execute=True):
            actions.revoke_escalation(escalation, actor=self.alice, organization=self.ward)
        self.assertFalse(actions.joint_cases(self.joint).exists())
        with self.assertRaises(PermissionDenied):
            actions.add_task(self.case, actor=self.joint_member, organization=self.joint, title="続き")
        with self.assertRaisesMessage(IncidentActionError, "すでに取り消されています"):
            actions.revoke_escalation(escalation, actor=self.alice, organization=self.ward)
        # A new grant can be made after a revoke.
        self.escalate()
        self.assertEqual(list(actions.joint_cases(self.joint)), [self.case])

    def test_it_refuses_a_second_active_grant_and_a_ward_as_target(self):
        self.escalate()
        with self.assertRaisesMessage(IncidentActionError, "すでにエスカレーション"):
            self.escalate()
        with self.assertRaisesMessage(IncidentActionError, "共同組織"):
            actions.escalate(self.case, self.ward_b, actor=self.alice, organization=self.ward)

    def test_only_the_ward_revokes(self):
        escalation = self.escalate()
        with self.assertRaises(PermissionDenied):
            actions.revoke_escalation(escalation, actor=self.joint_member, organization=self.joint)
        escalation.refresh_from_db()
        self.assertTrue(escalation.is_active)

    def test_evidence_is_shared_only_when_the_grant_says_so(self):
        evidence = actions.register_evidence(
            self.case, actor=self.alice, organization=self.ward, description="イメージ", sha256="f" * 64
        )
        self.escalate(share_evidence=False)
        self.assertFalse(actions.evidence_visible(evidence, self.joint))
        with self.assertRaises(PermissionDenied):
            actions.add_custody(evidence, actor=self.joint_member, organization=self.joint, action="received")
        Escalation.objects.filter(case=self.case).update(share_evidence=True)
        actions.add_custody(evidence, actor=self.joint_member, organization=self.joint, action="received")
        self.assertEqual(evidence.custody.last().actor_organization, self.joint)

    def test_grant_and_revoke_are_audited_and_mailed(self):
        escalation = self.escalate(share_people=True)
        with self.captureOnCommitCallbacks(execute=True):
            actions.revoke_escalation(escalation, actor=self.alice, organization=self.ward)
        granted = AuditEntry.objects.get(action="incident.escalated")
        self.assertEqual(granted.details["joint_organization"], "joint-csirt")
        self.assertTrue(granted.details["share_people"])
        self.assertTrue(AuditEntry.objects.filter(action="incident.escalation_revoked").exists())
        self.assertEqual([message.to for message in mail.outbox], [["duty@joint.example.jp"]] * 2)

    def test_a_failing_mail_does_not_undo_the_grant(self):
        with override_settings(MAILERS=closed_port_mailers()), self.assertLogs("mamori.incidents.actions", "ERROR"):
            self.escalate()
        self.assertTrue(Escalation.objects.filter(case=self.case, revoked_at__isnull=True).exists())
        self.assertEqual(Case.objects.get(pk=self.case.pk).state, "new")


def closed_port_mailers() -> dict:
    """SMTP on a loopback port nobody listens on: the mail server is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = {"host": "127.0.0.1", "port": port, "timeout": 2}
    return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}
