"""`mamori import-roster FILE --org CODE [--dry-run]`: validate a roster file and apply it now.

Also callable as `mamori import_roster` (Django's own name for the command).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mamori.core.actions import run_roster_import_now, upload_roster
from mamori.core.models import Organization, RosterImport
from mamori.core.roster.check import check_roster
from mamori.core.roster.parsing import RosterFileError, ensure_size_allowed

COUNT_LABELS = [
    ("add", "追加"),
    ("update", "更新"),
    ("reactivate", "再有効化"),
    ("deactivate", "無効化"),
    ("unchanged", "変更なし"),
    ("new_departments", "新しい所属"),
    ("deactivate_departments", "無効にする所属"),
    ("reactivate_departments", "再有効化する所属"),
]


def describe_counts(counts: dict) -> str:
    return "、".join(f"{label} {counts.get(key, 0)}" for key, label in COUNT_LABELS)


def describe_error(error: dict) -> str:
    where = f"{error['row']} 行目" if error["row"] else "ファイル全体"
    column = f"・{error['column']}" if error["column"] else ""
    return f"  {where}{column}: {error['message']}"


class Command(BaseCommand):
    help = (
        "名簿ファイル（CSV: UTF-8/Shift_JIS、または XLSX）を検証し、職員番号で照合して取り込みます。"
        "エラーが 1 件でもあれば何も変更せず、エラーの一覧を表示して終了コード 1 で終わります。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="名簿ファイルのパス")
        parser.add_argument("--org", required=True, help="組織コード（例: demo-ku）")
        parser.add_argument("--dry-run", action="store_true", help="検証と件数の表示だけを行い、何も変更しない")

    def handle(self, *args, file: Path, org: str, dry_run: bool, **options):
        organization = Organization.objects.filter(code=org).first()
        if organization is None:
            raise CommandError(f"組織コード「{org}」の組織はありません。")
        content = self.read(file)
        if dry_run:
            check = check_roster(organization, content)
            self.report_errors(check.errors, check.error_count)
            self.stdout.write(
                f"検証に成功しました（{check.total_rows} 行）。取り込むと: {describe_counts(check.summary['counts'])}"
            )
            self.stdout.write("--dry-run のため何も変更していません。")
            return
        roster_import = upload_roster(organization, filename=file.name, content=content, by=None)
        self.report_errors(roster_import.errors, roster_import.error_count)
        run_roster_import_now(roster_import)
        if roster_import.state != RosterImport.State.DONE:
            self.report_errors(roster_import.errors, roster_import.error_count)
        self.stdout.write(f"取り込みました（{roster_import.total_rows} 行）: {describe_counts(roster_import.counts)}")

    def read(self, file: Path) -> bytes:
        try:
            # The size is checked before the file is read into memory.
            ensure_size_allowed(file.stat().st_size)
            return file.read_bytes()
        except RosterFileError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"ファイル「{file}」を読めません: {exc.strerror}") from None

    def report_errors(self, errors: list[dict], error_count: int) -> None:
        if not error_count:
            return
        self.stderr.write(f"エラーが {error_count} 件あります:")
        self.stderr.write("\n".join(describe_error(error) for error in errors))
        if error_count > len(errors):
            self.stderr.write(f"  （ほか {error_count - len(errors)} 件）")
        raise CommandError("名簿にエラーがあるため、何も変更していません。")
