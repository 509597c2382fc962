import json
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command

from mamori.core.tests.base import BaseTestCase
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.models import Report
from mamori.reporting.tests.reported_mail import drill_mail, forward, suspicious_mail


class IngestEmlCommandTests(BaseTestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = Path(directory.name)

    def write(self, name: str, raw: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(raw)
        return path

    def run_command(self, *arguments) -> list[dict]:
        output = StringIO()
        call_command("ingest_eml", *arguments, stdout=output)
        return [json.loads(line) for line in output.getvalue().splitlines()]

    def test_it_prints_one_json_line_per_file(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        drill = self.write("drill.eml", forward(drill_mail(delivery), by="yamada@city-a.lg.jp"))
        real = self.write("real.eml", forward(suspicious_mail(), by="yamada@city-a.lg.jp"))

        results = self.run_command("--org", "ward-a", str(drill), str(real))

        self.assertEqual([result["status"] for result in results], ["drill", "triage"])
        self.assertEqual(results[0]["delivery"]["person"], str(self.person_a.public_id))
        self.assertTrue(results[0]["by_recipient"])
        self.assertIsNone(results[1]["delivery"])
        self.assertIn("evil-login.example", results[1]["indicators"]["domains"])
        self.assertEqual(results[1]["errors"], [])
        self.assertEqual(Report.objects.filter(channel=Report.Channel.COMMAND).count(), 2)

    def test_without_org_it_uses_the_forwarding_staff_members_domain(self):
        path = self.write("real.eml", forward(suspicious_mail(), by="suzuki@city-b.lg.jp"))

        [result] = self.run_command(str(path))

        self.assertEqual(Report.objects.get(public_id=result["report"]).organization, self.ward_b)

    def test_a_missing_file_is_an_error_line_and_the_others_still_run(self):
        real = self.write("real.eml", forward(suspicious_mail(), by="yamada@city-a.lg.jp"))
        output = StringIO()

        with self.assertRaises(CommandError):
            call_command("ingest_eml", "--org", "ward-a", str(self.directory / "missing.eml"), str(real), stdout=output)

        results = [json.loads(line) for line in output.getvalue().splitlines()]
        self.assertEqual([result["status"] for result in results], ["error", "triage"])
        self.assertIn("ファイルを読めません", results[0]["errors"][0])

    def test_an_unknown_sender_domain_needs_org(self):
        path = self.write("outside.eml", forward(suspicious_mail(), by="someone@example.com"))

        with self.assertRaises(CommandError):
            self.run_command(str(path))

        self.assertFalse(Report.objects.exists())

    def test_it_refuses_an_unknown_org(self):
        with self.assertRaisesMessage(CommandError, "組織コード「nowhere」"):
            self.run_command("--org", "nowhere", "x.eml")
