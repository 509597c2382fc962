"""Work on a case from its page: timeline entries with their precision, tasks, evidence and custody."""

import datetime
import hashlib
import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.incidents import actions
from mamori.incidents.models import Case, CustodyEntry, Evidence, Task, TimelineEntry, TimePrecision
from mamori.incidents.tests.makers import make_case

JST = datetime.timezone(datetime.timedelta(hours=9))
MAIL = b"From: attacker@example.com\r\nSubject: invoice\r\n\r\nhello\r\n"


class WorkViewTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)

    def setUp(self):
        self.data_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.data_dir, ignore_errors=True)
        settings_override = override_settings(DATA_DIR=self.data_dir)
        settings_override.enable()
        self.addCleanup(settings_override.disable)
        self.case = make_case(
            self.ward_a,
            actor=self.csirt,
            title="添付ファイルを開いた",
            category=Case.Category.TARGETED_MAIL,
            detected_at=datetime.datetime(2026, 12, 3, 15, 0, tzinfo=JST),
        )

    def url(self, name, *args):
        return reverse(f"incidents:{name}", args=[self.case.public_id, *args])


class TimelineTests(WorkViewTestCase):
    def test_entries_are_shown_as_precisely_as_they_are_known(self):
        self.login(self.csirt)

        self.client.post(
            self.url("timeline-add"),
            {"kind": "observation", "at_precision": "hour", "at": "2026-12-03T14:37", "text": "添付を開いたらしい"},
        )
        self.client.post(
            self.url("timeline-add"),
            {"kind": "contact", "at_precision": "day", "at": "2026-12-03T00:00", "text": "委託先に連絡"},
        )

        day, hour = TimelineEntry.objects.filter(case=self.case).order_by("kind")
        page = self.client.get(self.url("case-detail"))
        self.assertContains(page, "2026年12月3日 14時台")
        self.assertContains(page, "2026年12月3日（時刻不明）")
        self.assertEqual(day.at, datetime.datetime(2026, 12, 3, 0, 0, tzinfo=JST))
        self.assertEqual(hour.at_precision, TimePrecision.HOUR)
        self.assertEqual(hour.author_organization, self.ward_a)

    def test_a_correction_is_a_new_entry_pointing_at_the_old_one(self):
        wrong = actions.add_timeline_entry(self.case, actor=self.csirt, organization=self.ward_a, text="15時に開封")
        self.login(self.csirt)

        self.client.post(
            self.url("timeline-add"),
            {"kind": "observation", "at_precision": "exact", "text": "開封は14時40分", "corrects": wrong.public_id},
        )

        correction = TimelineEntry.objects.exclude(pk=wrong.pk).get()
        self.assertEqual((correction.corrects, correction.kind), (wrong, TimelineEntry.Kind.CORRECTION))
        wrong.refresh_from_db()
        self.assertEqual(wrong.text, "15時に開封")
        self.assertContains(self.client.get(self.url("case-detail")), "の記録の訂正")

    def test_an_empty_entry_is_refused_and_the_typed_time_stays(self):
        self.login(self.csirt)

        response = self.client.post(
            self.url("timeline-add"), {"kind": "observation", "at_precision": "exact", "at": "2026-12-03T14:37"}
        )

        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "2026-12-03T14:37", status_code=400)
        self.assertFalse(TimelineEntry.objects.exists())

    def test_a_future_time_is_refused_with_the_reason(self):
        self.login(self.csirt)
        future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

        response = self.client.post(
            self.url("timeline-add"), {"kind": "observation", "at_precision": "exact", "at": future, "text": "未来"}
        )

        self.assertContains(response, "未来の日時は入力できません", status_code=400)
        self.assertContains(response, "未来", status_code=400)


class TaskTests(WorkViewTestCase):
    def test_a_task_is_added_completed_and_reopened(self):
        self.login(self.csirt)

        self.client.post(self.url("task-add"), {"title": "ログの保全", "due_at": "2026-12-04T17:00"})
        task = Task.objects.get(case=self.case, title="ログの保全")
        self.client.post(self.url("task-done", task.public_id))
        task.refresh_from_db()
        self.assertEqual(task.done_by, self.csirt)
        self.client.post(self.url("task-reopen", task.public_id))
        task.refresh_from_db()
        self.assertIsNone(task.done_at)

    def test_an_overdue_task_is_highlighted(self):
        self.login(self.csirt)
        past = timezone.localtime() - datetime.timedelta(hours=2)
        self.client.post(self.url("task-add"), {"title": "上長へ報告", "due_at": past.strftime("%Y-%m-%dT%H:%M")})

        page = self.client.get(self.url("case-detail"))

        self.assertContains(page, "期限切れ")
        self.assertContains(self.client.get(reverse("incidents:case-list")), "期限切れの作業あり")

    def test_charlie_cannot_complete_ward_as_task(self):
        task = self.case.tasks.first()
        self.login(self.charlie)

        self.assertEqual(self.client.post(self.url("task-done", task.public_id)).status_code, 404)
        task.refresh_from_db()
        self.assertIsNone(task.done_at)


class EvidenceTests(WorkViewTestCase):
    def test_an_uploaded_mail_is_hashed_on_the_server_and_downloaded_after_a_check(self):
        self.login(self.csirt)

        response = self.client.post(
            self.url("evidence-add"),
            {
                "description": "報告された不審メール",
                "kind": "mail",
                "file": SimpleUploadedFile("invoice.eml", MAIL, content_type="message/rfc822"),
                "acquired_precision": "exact",
                "acquired_at": "2026-12-03T15:10",
                "collector": "情報政策課 佐藤",
            },
        )

        self.assertRedirects(response, self.url("case-detail"))
        evidence = Evidence.objects.get(case=self.case)
        self.assertEqual(evidence.sha256, hashlib.sha256(MAIL).hexdigest())
        self.assertEqual(evidence.custody.get().action, CustodyEntry.Action.ACQUIRED)
        download = self.client.get(self.url("evidence-download", evidence.public_id))
        self.assertEqual(b"".join(download.streaming_content), MAIL)
        self.assertIn("attachment", download["Content-Disposition"])
        page = self.client.get(self.url("case-detail"))
        self.assertContains(page, evidence.sha256)
        self.assertContains(page, "情報政策課 佐藤")

    def test_a_tampered_file_is_not_handed_out(self):
        evidence = actions.register_evidence(
            self.case,
            actor=self.csirt,
            organization=self.ward_a,
            description="メール",
            upload=SimpleUploadedFile("a.eml", MAIL),
        )
        actions.evidence_path(evidence).write_bytes(b"changed")
        self.login(self.csirt)

        response = self.client.get(self.url("evidence-download", evidence.public_id), follow=True)

        self.assertContains(response, "SHA-256 が登録時と一致しません")

    def test_an_item_kept_offline_is_registered_by_its_typed_hash(self):
        self.login(self.csirt)
        digest = "ab" * 32

        self.client.post(
            self.url("evidence-add"),
            {
                "description": "端末のディスクイメージ",
                "kind": "disk",
                "sha256": digest.upper(),
                "acquired_precision": "day",
                "acquired_at": "2026-12-03",
                "collector": "委託先 技術者",
            },
        )

        evidence = Evidence.objects.get(case=self.case)
        self.assertEqual((evidence.sha256, evidence.stored), (digest, False))

    def test_a_malformed_hash_or_nothing_at_all_is_refused_clearly(self):
        self.login(self.csirt)
        base = {"description": "x", "kind": "other", "acquired_precision": "unknown", "collector": "佐藤"}

        bad_hash = self.client.post(self.url("evidence-add"), {**base, "sha256": "1234"})
        neither = self.client.post(self.url("evidence-add"), base)

        self.assertContains(bad_hash, "64桁の16進数", status_code=400)
        self.assertContains(neither, "ファイルを選ぶか、SHA-256 を入力してください", status_code=400)
        self.assertFalse(Evidence.objects.exists())

    @override_settings(INCIDENTS_EVIDENCE_MAX_BYTES=10)
    def test_an_oversize_file_is_refused_with_the_limit(self):
        self.login(self.csirt)

        response = self.client.post(
            self.url("evidence-add"),
            {
                "description": "大きなファイル",
                "kind": "log",
                "file": SimpleUploadedFile("big.log", b"x" * 11),
                "acquired_precision": "unknown",
                "collector": "佐藤",
            },
        )

        self.assertContains(response, "ファイルが大きすぎます", status_code=400)
        self.assertFalse(Evidence.objects.exists())

    def test_custody_is_added_and_charlie_cannot_download(self):
        evidence = actions.register_evidence(
            self.case, actor=self.csirt, organization=self.ward_a, description="USBメモリ", sha256="c" * 64
        )
        self.login(self.csirt)

        self.client.post(
            self.url("custody-add", evidence.public_id),
            {"action": "handed_over", "from_holder": "税務課 山田", "to_holder": "情報政策課 佐藤"},
        )

        self.assertEqual(
            list(evidence.custody.values_list("action", flat=True)),
            [CustodyEntry.Action.ACQUIRED, CustodyEntry.Action.HANDED_OVER],
        )
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url("evidence-download", evidence.public_id)).status_code, 404)
        self.assertEqual(
            self.client.post(self.url("custody-add", evidence.public_id), {"action": "disposed"}).status_code, 404
        )
        self.assertEqual(evidence.custody.count(), 2)
