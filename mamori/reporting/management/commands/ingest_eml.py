"""`mamori ingest-eml [--org CODE] FILE...`: process .eml files exactly as the report mailbox would.

Prints one JSON line per file. Without ``--org`` the organization is the one whose verified mail domain
the forwarding address (the report mail's From) belongs to.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mamori.core.models import Organization
from mamori.lib.mailparse import parse_report
from mamori.reporting.actions import ingest_message
from mamori.reporting.models import Report
from mamori.reporting.summary import delivery_summary, indicators


def organization_of_sender(raw: bytes) -> Organization | None:
    sender = parse_report(raw).envelope.from_
    domain = sender.rpartition("@")[2].lower()
    if not domain:
        return None
    return Organization.objects.filter(domains__domain=domain, domains__verified_at__isnull=False).first()


def outcome(path: Path, report: Report) -> dict:
    return {
        "file": str(path),
        "status": report.state,
        "report": str(report.public_id),
        "delivery": delivery_summary(report),
        "by_recipient": report.by_recipient,
        "cluster": str(report.cluster.public_id) if report.cluster else None,
        "thanks": report.thanks,
        "indicators": indicators(report),
        "errors": report.problems,
    }


def failure(path: Path, message: str) -> dict:
    return {"file": str(path), "status": "error", "report": None, "delivery": None, "errors": [message]}


class Command(BaseCommand):
    help = (
        "報告されたメール（.eml）を、報告用メールボックスに届いたときと同じ手順で処理します。"
        "ファイルごとに結果を JSON で1行ずつ表示します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".eml ファイル")
        parser.add_argument("--org", help="組織コード（省略すると転送した職員のメールドメインから判断）")

    def handle(self, *args, files: list[Path], org: str | None, **options):
        organization = None
        if org:
            organization = Organization.objects.filter(code=org).first()
            if organization is None:
                raise CommandError(f"組織コード「{org}」の組織はありません。")
        failed = 0
        for path in files:
            result = self.ingest(path, organization)
            failed += result["status"] == "error"
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        if failed:
            raise CommandError(f"{failed} 件のファイルを処理できませんでした。")

    def ingest(self, path: Path, organization: Organization | None) -> dict:
        try:
            if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
                return failure(path, "ファイルが大きすぎます。")
            raw = path.read_bytes()
        except OSError as error:
            return failure(path, f"ファイルを読めません: {error.strerror or error}")
        organization = organization or organization_of_sender(raw)
        if organization is None:
            return failure(path, "組織を判断できません。--org で組織コードを指定してください。")
        return outcome(path, ingest_message(organization, raw, channel=Report.Channel.COMMAND))
