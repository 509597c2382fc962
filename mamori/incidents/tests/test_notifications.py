"""Mails to on-duty contacts: escalation, revocation, and the joint CSIRT's entries back to the ward."""

import datetime

from django.core import mail
from django.test import TestCase, override_settings

from mamori.core.tests.makers import make_organization, make_person, make_user
from mamori.incidents import actions, notifications
from mamori.incidents.models import JST, Case
from mamori.incidents.tests.makers import make_case, make_duty_contact, make_joint_member, make_joint_organization


@override_settings(SITE_URL="https://mamori.example.lg.jp")
class NotificationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.joint = make_joint_organization()
        cls.alice = make_user("alice", organization=cls.ward)
        cls.joint_member = make_joint_member(cls.joint, "kato")
        cls.yamada = make_person(cls.ward, "山田 太郎", email="yamada@city-a.lg.jp")
        make_duty_contact(cls.joint, "duty@joint.example.jp")
        make_duty_contact(cls.joint, "off@joint.example.jp", active=False)
        make_duty_contact(cls.ward, "csirt@city-a.lg.jp")

    def setUp(self):
        self.case = make_case(
            self.ward,
            actor=self.alice,
            title="税務課端末のマルウェア感染",
            category=Case.Category.MALWARE,
            severity=Case.Severity.HIGH,
            reporter=self.yamada,
        )

    def escalate(self, **kwargs):
        with self.captureOnCommitCallbacks(execute=True):
            return actions.escalate(self.case, self.joint, actor=self.alice, organization=self.ward, **kwargs)

    def test_the_escalation_mail_tells_the_joint_body_what_and_where(self):
        self.escalate(note="横展開の有無の確認をお願いします")
        (message,) = mail.outbox
        self.assertEqual(message.to, ["duty@joint.example.jp"])
        self.assertEqual(message.subject, f"【A区】インシデント {self.case.reference} の支援依頼（エスカレーション）")
        self.assertIn(f"事案番号：{self.case.reference}", message.body)
        self.assertIn("分類：マルウェア感染", message.body)
        self.assertIn("深刻度：高", message.body)
        self.assertIn("TLP：TLP:AMBER+STRICT", message.body)
        self.assertIn(f"https://mamori.example.lg.jp/incidents/joint/{self.case.public_id}/", message.body)
        html, mime = message.alternatives[0]
        self.assertEqual(mime, "text/html")
        self.assertIn(f"/incidents/joint/{self.case.public_id}/", html)

    def test_the_escalation_mail_carries_no_names_and_no_free_text(self):
        # The reporter's name, the acting user, the case title and the ward's note may all name someone: the
        # mail leaves mamori's access control, so they stay behind the link.
        self.escalate(note="山田さんの端末について横展開の確認をお願いします")
        (message,) = mail.outbox
        html = message.alternatives[0][0]
        for text in (message.subject, message.body, html):
            self.assertNotIn("山田", text)
            self.assertNotIn("alice", text)
            self.assertNotIn("税務課端末", text)
            self.assertNotIn("横展開", text)

    def test_the_joint_bodys_entries_are_mailed_back_to_the_ward(self):
        self.escalate()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            actions.add_timeline_entry(
                self.case, actor=self.joint_member, organization=self.joint, text="C2 通信先を特定しました"
            )
            actions.add_task(
                self.case, actor=self.joint_member, organization=self.joint, title="山田さんの端末をプロキシで遮断"
            )
        entry_mail, task_mail = mail.outbox
        self.assertEqual(entry_mail.to, ["csirt@city-a.lg.jp"])
        self.assertEqual(
            entry_mail.subject, f"【23区共同CSIRT】インシデント {self.case.reference} に記録が追加されました"
        )
        self.assertIn("23区共同CSIRT（共同CSIRT）が、次の事案の時系列に記録を追加しました。", entry_mail.body)
        self.assertIn("種類：観察", entry_mail.body)
        self.assertIn(f"https://mamori.example.lg.jp/incidents/{self.case.public_id}/", entry_mail.body)
        self.assertIn("作業を追加しました", task_mail.body)
        for message in (entry_mail, task_mail):
            for text in (message.subject, message.body, message.alternatives[0][0]):
                self.assertNotIn("C2 通信先", text, "the text stays in mamori")
                self.assertNotIn("山田", text)
                self.assertNotIn("kato", text, "who did it is on the page, not in the mail")

    def test_the_wards_own_entries_send_no_mail(self):
        with self.captureOnCommitCallbacks(execute=True):
            actions.add_timeline_entry(self.case, actor=self.alice, organization=self.ward, text="確認")
        self.assertEqual(mail.outbox, [])

    def test_revocation_is_mailed_to_the_joint_body(self):
        escalation = self.escalate()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            actions.revoke_escalation(escalation, actor=self.alice, organization=self.ward)
        (message,) = mail.outbox
        self.assertEqual(message.subject, f"【A区】インシデント {self.case.reference} の共有が終了しました")
        self.assertIn("閲覧できなくなりました", message.body)

    def test_contacts_on_duty_now_are_preferred_and_others_are_the_fallback(self):
        make_duty_contact(
            self.joint,
            "night@joint.example.jp",
            hours_start=datetime.time(17, 15),
            hours_end=datetime.time(8, 30),
        )
        make_duty_contact(
            self.joint,
            "day@joint.example.jp",
            hours_start=datetime.time(8, 30),
            hours_end=datetime.time(17, 15),
        )
        night = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=JST)
        self.assertEqual(
            notifications.on_duty_addresses(self.joint, night), ["duty@joint.example.jp", "night@joint.example.jp"]
        )
        lonely = make_organization("joint-2", "別の共同組織")
        make_duty_contact(lonely, "day2@joint.example.jp", hours_start=datetime.time(9), hours_end=datetime.time(17))
        self.assertEqual(notifications.on_duty_addresses(lonely, night), ["day2@joint.example.jp"])

    def test_nobody_to_tell_sends_nothing(self):
        silent = make_joint_organization("silent", "連絡先のない共同組織")
        with self.captureOnCommitCallbacks(execute=True):
            actions.escalate(self.case, silent, actor=self.alice, organization=self.ward)
        self.assertEqual(mail.outbox, [])
