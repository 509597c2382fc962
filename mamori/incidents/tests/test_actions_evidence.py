"""Evidence: the server's SHA-256 of a streamed upload, the size limit, typed hashes, custody, re-checked download."""

import hashlib
import io
import tempfile

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions
from mamori.incidents.actions import EvidenceIntegrityError, IncidentActionError
from mamori.incidents.models import CustodyEntry, Evidence
from mamori.incidents.tests.makers import make_case, make_joint_organization

MAIL = b"From: attacker@example.com\r\nSubject: invoice\r\n\r\nplease open\r\n"


class EvidenceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.joint = make_joint_organization()
        cls.alice = make_user("alice", organization=cls.ward)

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.settings_override = override_settings(DATA_DIR=directory.name, INCIDENTS_EVIDENCE_MAX_BYTES=1024)
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)
        self.case = make_case(self.ward, actor=self.alice)

    def register(self, **fields):
        values = {"actor": self.alice, "organization": self.ward, "description": "受信した標的型メール"}
        return actions.register_evidence(self.case, **{**values, **fields})

    def test_the_hash_is_computed_by_the_server_and_the_file_kept_under_it(self):
        evidence = self.register(upload=SimpleUploadedFile("invoice.eml", MAIL), sha256="0" * 64, collector="山田")
        self.assertEqual(evidence.sha256, hashlib.sha256(MAIL).hexdigest())
        self.assertEqual((evidence.size, evidence.stored, evidence.file_name), (len(MAIL), True, "invoice.eml"))
        path = actions.evidence_path(evidence)
        self.assertEqual(path.name, evidence.sha256)
        self.assertEqual(path.read_bytes(), MAIL)
        self.assertEqual(list(path.parent.iterdir()), [path], "no partial file left behind")

    def test_a_plain_file_object_is_streamed_too(self):
        evidence = self.register(upload=io.BytesIO(MAIL))
        self.assertEqual(evidence.sha256, hashlib.sha256(MAIL).hexdigest())

    def test_an_oversize_upload_is_refused_and_nothing_is_kept(self):
        with self.assertRaisesMessage(IncidentActionError, "ファイルが大きすぎます"):
            self.register(upload=SimpleUploadedFile("memory.raw", b"x" * 1025))
        # A stream that does not declare its size is cut off while reading.
        with self.assertRaisesMessage(IncidentActionError, "SHA-256 だけを登録"):
            self.register(upload=io.BytesIO(b"x" * 5000))
        self.assertFalse(Evidence.objects.exists())
        self.assertEqual(list(actions.evidence_directory(self.case).iterdir()), [])

    def test_an_offline_item_is_registered_by_its_typed_hash(self):
        typed = "AB" * 32
        evidence = self.register(description="端末のディスクイメージ", sha256=f" {typed} ", size=512 * 2**30)
        self.assertEqual((evidence.sha256, evidence.stored), ("ab" * 32, False))
        with self.assertRaisesMessage(IncidentActionError, "16進数64文字"):
            self.register(description="別のイメージ", sha256="xyz")

    def test_the_same_content_is_not_registered_twice_in_a_case(self):
        self.register(upload=SimpleUploadedFile("a.eml", MAIL))
        with self.assertRaisesMessage(IncidentActionError, "同じ内容"):
            self.register(upload=SimpleUploadedFile("b.eml", MAIL))
        self.assertTrue(actions.evidence_path(Evidence.objects.get()).exists())

    def test_registering_starts_the_chain_of_custody(self):
        evidence = self.register(sha256="c" * 64, collector="情報政策課 佐藤")
        entry = evidence.custody.get()
        self.assertEqual((entry.action, entry.to_holder, entry.actor), ("acquired", "情報政策課 佐藤", self.alice))
        actions.add_custody(
            evidence,
            actor=self.alice,
            organization=self.ward,
            action=CustodyEntry.Action.HANDED_OVER,
            from_holder="情報政策課 佐藤",
            to_holder="解析事業者",
        )
        actions.add_custody(evidence, actor=self.alice, organization=self.ward, action=CustodyEntry.Action.DISPOSED)
        with self.assertRaisesMessage(IncidentActionError, "廃棄済み"):
            actions.add_custody(evidence, actor=self.alice, organization=self.ward, action="analysed")
        self.assertEqual(
            list(evidence.custody.values_list("action", flat=True)), ["acquired", "handed_over", "disposed"]
        )

    def test_download_rechecks_the_hash(self):
        evidence = self.register(upload=SimpleUploadedFile("invoice.eml", MAIL))
        path = actions.verified_evidence_file(evidence, actor=self.alice, organization=self.ward)
        self.assertEqual(path.read_bytes(), MAIL)
        path.write_bytes(MAIL + b"tampered")
        with self.assertRaises(EvidenceIntegrityError):
            actions.verified_evidence_file(evidence, actor=self.alice, organization=self.ward)
        self.assertEqual(
            list(AuditEntry.objects.filter(action__startswith="incident.evidence_").values_list("action", flat=True)),
            ["incident.evidence_integrity_failed", "incident.evidence_downloaded", "incident.evidence_registered"],
        )

    def test_other_wards_and_ungranted_joint_bodies_cannot_touch_evidence(self):
        evidence = self.register(upload=SimpleUploadedFile("invoice.eml", MAIL))
        for organization in (self.ward_b, self.joint):
            with self.assertRaises(PermissionDenied):
                actions.verified_evidence_file(evidence, actor=self.alice, organization=organization)
            with self.assertRaises(PermissionDenied):
                actions.add_custody(evidence, actor=self.alice, organization=organization, action="received")
            with self.assertRaises(PermissionDenied):
                actions.register_evidence(
                    self.case, actor=None, organization=organization, description="x", sha256="d" * 64
                )

    def test_a_hash_that_is_not_hex_never_becomes_a_path(self):
        # A row written by other means (an import, a bad migration) must not point outside the case directory.
        outside = actions.evidence_directory(self.case).parent.parent / "secret.txt"
        outside.write_bytes(b"not evidence")
        evidence = Evidence.objects.create(
            case=self.case, description="改ざんされた行", sha256="../../secret.txt", stored=True
        )
        with self.assertRaises(EvidenceIntegrityError):
            actions.evidence_path(evidence)
        with self.assertRaisesMessage(EvidenceIntegrityError, "改ざん・破損のおそれ"):
            actions.verified_evidence_file(evidence, actor=self.alice, organization=self.ward)
        self.assertTrue(
            AuditEntry.objects.filter(action="incident.evidence_integrity_failed").exists(), "the failure is audited"
        )

    def test_the_uploaded_file_name_never_chooses_where_the_file_goes(self):
        evidence = self.register(upload=SimpleUploadedFile("../../../etc/passwd", MAIL))
        self.assertEqual(evidence.file_name, "passwd")
        self.assertEqual(actions.evidence_path(evidence).parent, actions.evidence_directory(self.case))

    def test_a_granted_joint_body_downloads_only_when_evidence_is_shared(self):
        evidence = self.register(upload=SimpleUploadedFile("invoice.eml", MAIL))
        grant = actions.escalate(self.case, self.joint, actor=self.alice, organization=self.ward, share_evidence=False)
        with self.assertRaises(PermissionDenied):
            actions.verified_evidence_file(evidence, actor=None, organization=self.joint)
        actions.revoke_escalation(grant, actor=self.alice, organization=self.ward)
        actions.escalate(self.case, self.joint, actor=self.alice, organization=self.ward, share_evidence=True)
        path = actions.verified_evidence_file(evidence, actor=None, organization=self.joint)
        self.assertEqual(path.read_bytes(), MAIL)
