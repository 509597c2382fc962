"""The page flow: upload → preview → confirm → worker → result; history; who may see what."""

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from mamori.core import worker
from mamori.core.models import AuditEntry, Person, RosterImport
from mamori.core.roster.progress import ProgressPublisher
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.roster_files import WARD_A_ROSTER, csv_bytes, staff, xlsx_bytes


def roster_file(content: bytes, name: str = "ward-a-roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


class RosterPageTestCase(BaseTestCase):
    def upload(self, content: bytes, name: str = "ward-a-roster.csv"):
        return self.client.post(reverse("core:roster-upload"), {"file": roster_file(content, name)})

    def latest_import(self) -> RosterImport:
        return RosterImport.objects.filter(organization=self.ward_a).latest("created_at")


class UploadPageTests(RosterPageTestCase):
    def test_it_shows_an_accessible_form(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:roster-upload"))
        self.assertContains(response, 'enctype="multipart/form-data"')
        self.assertContains(response, '<label for="id_file">')
        self.assertContains(response, "会計年度任用")

    def test_a_valid_file_leads_to_the_preview(self):
        self.login(self.alice)
        response = self.upload(csv_bytes(WARD_A_ROSTER))
        roster_import = self.latest_import()
        self.assertRedirects(response, reverse("core:roster-import", args=[roster_import.public_id]))
        self.assertEqual(roster_import.state, RosterImport.State.VALIDATED)
        self.assertEqual(roster_import.uploaded_by, self.alice)
        page = self.client.get(response["Location"])
        self.assertContains(page, "この内容で取り込む")
        self.assertContains(page, "高橋 三郎")  # sample of people to add
        self.assertContains(page, "区民部/税務課/課税係")  # new department
        self.assertContains(page, "CSV（UTF-8・BOM 付き）")
        # 山田 is not in the file: the preview warns that he will be deactivated.
        self.assertContains(page, "山田 太郎")
        self.assertContains(page, "組織全体の名簿かどうか")

    def test_an_invalid_file_shows_the_errors_and_writes_nothing(self):
        self.login(self.alice)
        people = Person.objects.count()
        response = self.upload(csv_bytes([staff("A1", "=cmd|' /C calc'!A0", "a@gmail.com")]), "bad.csv")
        page = self.client.get(response["Location"])
        self.assertContains(page, "エラーあり")
        self.assertContains(page, "数式として実行されるおそれ")
        self.assertContains(page, "確認済みドメインではありません")
        self.assertNotContains(page, "この内容で取り込む")
        self.assertEqual(Person.objects.count(), people)

    def test_it_accepts_xlsx(self):
        self.login(self.alice)
        self.upload(xlsx_bytes(WARD_A_ROSTER), "roster.xlsx")
        self.assertEqual(self.latest_import().state, RosterImport.State.VALIDATED)

    @override_settings(UPLOAD_MAX_BYTES=1024)
    def test_a_file_over_the_limit_gets_a_message_and_nothing_is_stored(self):
        self.login(self.alice)
        response = self.upload(b"a" * 2048)
        self.assertContains(response, "ファイルが大きすぎます")
        self.assertFalse(RosterImport.objects.exists())

    def test_a_50_mb_upload_is_refused_with_a_message(self):
        self.login(self.alice)
        response = self.upload(b"0" * (50 * 1024 * 1024), "huge.csv")
        self.assertContains(response, "ファイルが大きすぎます")
        self.assertContains(response, "50.0\xa0MB")
        self.assertFalse(RosterImport.objects.exists())

    def test_no_file_is_a_form_error(self):
        self.login(self.alice)
        response = self.client.post(reverse("core:roster-upload"), {})
        self.assertContains(response, 'aria-invalid="true"')

    def test_bob_the_auditor_may_not_upload(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("core:roster-upload")).status_code, 403)
        self.assertEqual(self.upload(csv_bytes(WARD_A_ROSTER)).status_code, 403)
        self.assertFalse(RosterImport.objects.exists())

    def test_an_upload_is_audited(self):
        self.login(self.alice)
        self.upload(csv_bytes(WARD_A_ROSTER))
        entry = AuditEntry.objects.get(action="roster.uploaded")
        self.assertEqual(
            (entry.organization, entry.actor, entry.details["state"]), (self.ward_a, self.alice, "validated")
        )


class ConfirmAndApplyTests(RosterPageTestCase):
    def test_the_whole_flow_through_the_worker(self):
        self.login(self.alice)
        detail_url = self.upload(csv_bytes(WARD_A_ROSTER))["Location"]
        roster_import = self.latest_import()
        response = self.client.post(reverse("core:roster-confirm", args=[roster_import.public_id]))
        self.assertRedirects(response, detail_url)
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.state, RosterImport.State.QUEUED)
        self.assertEqual(roster_import.confirmed_by, self.alice)
        queued_page = self.client.get(detail_url)
        self.assertContains(queued_page, 'hx-trigger="every 2s"')
        self.assertContains(queued_page, "最新の状態に更新")  # the no-JS way to refresh

        worker.drain()

        roster_import.refresh_from_db()
        self.assertEqual(roster_import.state, RosterImport.State.DONE)
        self.assertEqual(roster_import.content, b"")
        self.assertEqual(roster_import.summary["result"]["add"], 3)
        self.assertEqual(Person.objects.filter(organization=self.ward_a, active=True).count(), 3)
        done_page = self.client.get(detail_url)
        self.assertContains(done_page, "取り込んだ結果")
        self.assertNotContains(done_page, "hx-trigger")
        actions = list(AuditEntry.objects.filter(organization=self.ward_a).values_list("action", flat=True))
        self.assertIn("roster.confirmed", actions)
        applied = AuditEntry.objects.get(action="roster.applied")
        self.assertEqual((applied.actor, applied.details["add"], applied.details["deactivate"]), (self.alice, 3, 1))

    def test_the_progress_poll_gets_only_the_partial(self):
        self.login(self.alice)
        detail_url = self.upload(csv_bytes(WARD_A_ROSTER))["Location"]
        roster_import = self.latest_import()
        RosterImport.objects.filter(pk=roster_import.pk).update(state=RosterImport.State.RUNNING)
        publisher = ProgressPublisher(roster_import)
        publisher(40, 80, "職員を追加しています")
        self.addCleanup(cache.clear)
        response = self.client.get(detail_url, headers={"HX-Request": "true"})
        self.assertNotContains(response, "<html")
        self.assertContains(response, 'id="roster-status"')
        self.assertContains(response, 'value="50"')
        self.assertContains(response, "職員を追加しています: 40 / 80")

    def test_confirming_twice_queues_once(self):
        self.login(self.alice)
        self.upload(csv_bytes(WARD_A_ROSTER))
        url = reverse("core:roster-confirm", args=[self.latest_import().public_id])
        self.client.post(url)
        response = self.client.post(url, follow=True)
        self.assertContains(response, "確認待ちではないため")
        self.assertEqual(AuditEntry.objects.filter(action="roster.confirmed").count(), 1)

    def test_an_invalid_import_cannot_be_confirmed(self):
        self.login(self.alice)
        self.upload(csv_bytes([staff("A1", "佐藤", "a@gmail.com")]))
        roster_import = self.latest_import()
        self.client.post(reverse("core:roster-confirm", args=[roster_import.public_id]))
        worker.drain()
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.state, RosterImport.State.INVALID)
        self.assertFalse(Person.objects.filter(employee_number="A1").exists())

    def test_a_roster_invalid_at_apply_time_fails_with_errors_on_the_page(self):
        self.login(self.alice)
        detail_url = self.upload(csv_bytes(WARD_A_ROSTER))["Location"]
        roster_import = self.latest_import()
        self.client.post(reverse("core:roster-confirm", args=[roster_import.public_id]))
        self.ward_a.domains.all().delete()
        worker.drain()
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.state, RosterImport.State.FAILED)
        self.assertFalse(Person.objects.filter(employee_number="A001").exists())
        self.assertContains(self.client.get(detail_url), "確認済みメールドメインがありません")
        self.assertTrue(AuditEntry.objects.filter(action="roster.failed").exists())

    def test_confirm_requires_post(self):
        self.login(self.alice)
        self.upload(csv_bytes(WARD_A_ROSTER))
        response = self.client.get(reverse("core:roster-confirm", args=[self.latest_import().public_id]))
        self.assertEqual(response.status_code, 405)


class HistoryAndTenancyTests(RosterPageTestCase):
    def setUp(self):
        self.login(self.alice)
        self.upload(csv_bytes(WARD_A_ROSTER))
        self.ward_a_import = self.latest_import()

    def test_the_history_lists_imports_with_counts(self):
        response = self.client.get(reverse("core:roster-imports"))
        self.assertContains(response, "ward-a-roster.csv")
        self.assertContains(response, "確認待ち")
        self.assertContains(response, "alice")

    def test_the_history_cost_is_flat(self):
        for _ in range(5):
            self.upload(csv_bytes(WARD_A_ROSTER))
        self.client.get(reverse("core:roster-imports"))
        with self.assertNumQueries(8):
            self.client.get(reverse("core:roster-imports"))

    def test_charlie_cannot_see_ward_a_imports_in_the_list(self):
        self.login(self.charlie)
        response = self.client.get(reverse("core:roster-imports"))
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "ward-a-roster.csv")

    def test_charlie_gets_404_for_ward_a_import_pages(self):
        self.login(self.charlie)
        detail = reverse("core:roster-import", args=[self.ward_a_import.public_id])
        confirm = reverse("core:roster-confirm", args=[self.ward_a_import.public_id])
        self.assertEqual(self.client.get(detail).status_code, 404)
        self.assertEqual(self.client.get(detail, headers={"HX-Request": "true"}).status_code, 404)
        self.assertEqual(self.client.post(confirm).status_code, 404)
        self.ward_a_import.refresh_from_db()
        self.assertEqual(self.ward_a_import.state, RosterImport.State.VALIDATED)

    def test_bob_the_auditor_gets_403_on_every_roster_page(self):
        self.login(self.bob)
        for url in (
            reverse("core:roster-imports"),
            reverse("core:roster-import", args=[self.ward_a_import.public_id]),
        ):
            self.assertEqual(self.client.get(url).status_code, 403)
        confirm = reverse("core:roster-confirm", args=[self.ward_a_import.public_id])
        self.assertEqual(self.client.post(confirm).status_code, 403)
