"""`mamori import-roster FILE --org CODE [--dry-run]`."""

import io
import sys
import tempfile
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command

from mamori.__main__ import main
from mamori.core.models import AuditEntry, Person, RosterImport
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.roster_files import WARD_A_ROSTER, csv_bytes, staff, xlsx_bytes


class ImportRosterCommandTests(BaseTestCase):
    def roster_path(self, content: bytes, suffix: str = ".csv") -> Path:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        path = Path(directory.name) / f"roster{suffix}"
        path.write_bytes(content)
        return path

    def run_command(self, *args) -> tuple[str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        call_command("import_roster", *args, stdout=stdout, stderr=stderr)
        return stdout.getvalue(), stderr.getvalue()

    def test_it_validates_and_applies_at_once(self):
        out, _ = self.run_command(str(self.roster_path(xlsx_bytes(WARD_A_ROSTER), ".xlsx")), "--org", "ward-a")
        self.assertIn("取り込みました（3 行）", out)
        self.assertIn("追加 3", out)
        self.assertIn("無効化 1", out)
        self.assertEqual(Person.objects.filter(organization=self.ward_a, active=True).count(), 3)
        self.assertEqual(RosterImport.objects.get().state, RosterImport.State.DONE)
        self.assertTrue(AuditEntry.objects.filter(action="roster.applied", actor=None).exists())

    def test_errors_are_printed_in_japanese_and_nothing_is_written(self):
        before = list(Person.objects.values_list())
        path = self.roster_path(csv_bytes([staff("A1", "佐藤", "a@gmail.com"), staff("A1", "鈴木", "b@city-a.lg.jp")]))
        stderr = io.StringIO()
        with self.assertRaisesMessage(CommandError, "何も変更していません"):
            call_command("import_roster", str(path), "--org", "ward-a", stderr=stderr)
        self.assertIn("2 行目・メール: ドメイン「gmail.com」", stderr.getvalue())
        self.assertIn("3 行目・職員番号", stderr.getvalue())
        self.assertEqual(list(Person.objects.values_list()), before)

    def test_dry_run_only_validates(self):
        before = list(Person.objects.values_list())
        out, _ = self.run_command(
            str(self.roster_path(csv_bytes(WARD_A_ROSTER, encoding="cp932"))), "--org", "ward-a", "--dry-run"
        )
        self.assertIn("検証に成功しました（3 行）", out)
        self.assertIn("--dry-run", out)
        self.assertEqual(list(Person.objects.values_list()), before)
        self.assertFalse(RosterImport.objects.exists())

    def test_dry_run_reports_errors(self):
        path = self.roster_path(csv_bytes([["A1", "佐藤"]], header=["職員番号", "氏名"]))
        with self.assertRaises(CommandError):
            call_command("import_roster", str(path), "--org", "ward-a", "--dry-run", stderr=io.StringIO())

    def test_it_rejects_an_unknown_organization(self):
        with self.assertRaisesMessage(CommandError, "組織コード「nowhere」"):
            self.run_command(str(self.roster_path(csv_bytes(WARD_A_ROSTER))), "--org", "nowhere")

    def test_it_rejects_a_missing_file(self):
        with self.assertRaisesMessage(CommandError, "読めません"):
            self.run_command("/nonexistent/roster.csv", "--org", "ward-a")

    def test_it_checks_the_size_before_reading(self):
        path = self.roster_path(csv_bytes(WARD_A_ROSTER))
        with (
            self.settings(UPLOAD_MAX_BYTES=10),
            mock.patch.object(Path, "read_bytes") as read_bytes,
            self.assertRaisesMessage(CommandError, "ファイルが大きすぎます"),
        ):
            self.run_command(str(path), "--org", "ward-a")
        read_bytes.assert_not_called()

    def test_the_hyphenated_name_works(self):
        path = self.roster_path(csv_bytes(WARD_A_ROSTER))
        stdout = io.StringIO()
        with (
            mock.patch.object(sys, "argv", ["mamori", "import-roster", str(path), "--org", "ward-a"]),
            mock.patch.object(sys, "stdout", stdout),
        ):
            main()
        self.assertIn("取り込みました", stdout.getvalue())
