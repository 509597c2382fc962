"""The roster import API: upload (validate), read, confirm — security_admin of the token's organization only."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from mamori.accounts.models import APIToken
from mamori.core import worker
from mamori.core.models import AuditEntry, Person, RosterImport
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.roster_files import WARD_A_ROSTER, csv_bytes, staff

API = "/api/v1/roster-imports"


class RosterApiTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        _, cls.alice_token = APIToken.issue(user=cls.alice, organization=cls.ward_a, name="hr-sync")
        _, cls.bob_token = APIToken.issue(user=cls.bob, organization=cls.ward_a, name="bob")
        _, cls.charlie_token = APIToken.issue(user=cls.charlie, organization=cls.ward_b, name="charlie")

    def post_file(self, content: bytes, token: str | None = None, name: str = "roster.csv"):
        return self.client.post(
            API,
            {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
            headers={"Authorization": f"Bearer {token or self.alice_token}"},
        )

    def call(self, method: str, path: str, token: str | None = None):
        return getattr(self.client, method)(path, headers={"Authorization": f"Bearer {token or self.alice_token}"})

    def test_upload_validates_and_returns_the_preview(self):
        response = self.post_file(csv_bytes(WARD_A_ROSTER))
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertEqual(body["state"], "validated")
        self.assertEqual(body["summary"]["counts"]["add"], 3)
        self.assertEqual(body["errors"], [])
        self.assertFalse(Person.objects.filter(employee_number="A001").exists())
        self.assertEqual(AuditEntry.objects.get(action="roster.uploaded").actor, self.alice)

    def test_upload_returns_row_errors_in_japanese(self):
        response = self.post_file(csv_bytes([staff("A1", "佐藤", "sato@example.com")]))
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertEqual(body["state"], "invalid")
        self.assertEqual(body["error_count"], 1)
        self.assertEqual(body["errors"][0]["row"], 2)
        self.assertEqual(body["errors"][0]["column"], "メール")
        self.assertIn("確認済みドメインではありません", body["errors"][0]["message"])

    @override_settings(UPLOAD_MAX_BYTES=100)
    def test_an_oversized_upload_gets_413_and_nothing_is_stored(self):
        response = self.post_file(csv_bytes(WARD_A_ROSTER))
        self.assertEqual(response.status_code, 413)
        self.assertIn("ファイルが大きすぎます", response.json()["detail"])
        self.assertFalse(RosterImport.objects.exists())

    def test_confirm_queues_and_the_worker_applies(self):
        import_id = self.post_file(csv_bytes(WARD_A_ROSTER)).json()["id"]
        response = self.call("post", f"{API}/{import_id}/confirm")
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json()["state"], "queued")
        worker.drain()
        body = self.call("get", f"{API}/{import_id}").json()
        self.assertEqual(body["state"], "done")
        self.assertEqual(body["summary"]["result"]["add"], 3)
        self.assertEqual(Person.objects.filter(organization=self.ward_a, active=True).count(), 3)

    def test_confirming_an_invalid_import_is_a_conflict(self):
        import_id = self.post_file(csv_bytes([staff("A1", "佐藤", "bad")])).json()["id"]
        response = self.call("post", f"{API}/{import_id}/confirm")
        self.assertEqual(response.status_code, 409)
        self.assertIn("確認待ち", response.json()["detail"])

    def test_bob_the_auditor_gets_403(self):
        self.assertEqual(self.post_file(csv_bytes(WARD_A_ROSTER), token=self.bob_token).status_code, 403)
        import_id = self.post_file(csv_bytes(WARD_A_ROSTER)).json()["id"]
        self.assertEqual(self.call("get", f"{API}/{import_id}", token=self.bob_token).status_code, 403)
        self.assertEqual(self.call("post", f"{API}/{import_id}/confirm", token=self.bob_token).status_code, 403)

    def test_charlie_gets_404_for_ward_a_imports(self):
        import_id = self.post_file(csv_bytes(WARD_A_ROSTER)).json()["id"]
        self.assertEqual(self.call("get", f"{API}/{import_id}", token=self.charlie_token).status_code, 404)
        self.assertEqual(self.call("post", f"{API}/{import_id}/confirm", token=self.charlie_token).status_code, 404)
        self.assertEqual(RosterImport.objects.get().state, RosterImport.State.VALIDATED)

    def test_charlie_uploads_into_his_own_ward_only(self):
        response = self.post_file(csv_bytes(WARD_A_ROSTER), token=self.charlie_token)
        self.assertEqual(response.json()["state"], "invalid")  # ward A's addresses are not ward B's domain
        self.assertEqual(RosterImport.objects.get().organization, self.ward_b)

    def test_it_requires_a_token(self):
        self.assertEqual(self.client.post(API).status_code, 401)
