"""`mamori mailcatcher`: a local SMTP server that keeps every mail, with a web page to read them (demo, tests)."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mamori.core.management.stopping import stop_requested_on_signals
from mamori.lib.mailcatcher import MailCatcher, MailStore

# The web page listens this far above the SMTP port: 1025 → 1080.
HTTP_PORT_OFFSET = 55


class Command(BaseCommand):
    help = "ローカルのメールキャッチャーを起動します（SMTP で受けたメールを外に出さず、ブラウザで読めます）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス（既定: 127.0.0.1）")
        parser.add_argument("--smtp-port", type=int, default=settings.MAILERS["default"]["OPTIONS"]["port"])
        parser.add_argument("--http-port", type=int, help="一覧ページのポート（既定: SMTP ポート + 55）")
        parser.add_argument("--directory", type=Path, default=settings.DATA_DIR / "mail", help="保存先")

    def handle(self, *args, host, smtp_port, http_port, directory, **options):
        http_port = http_port or smtp_port + HTTP_PORT_OFFSET
        # aiosmtpd logs every SMTP conversation at INFO; the catcher logs one line per captured mail instead.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        try:
            catcher = MailCatcher(MailStore(directory), host=host, smtp_port=smtp_port, http_port=http_port)
            catcher.start()
        except OSError as exc:
            raise CommandError(f"メールキャッチャーを起動できません（ポート {smtp_port}/{http_port}）: {exc}") from exc
        self.stdout.write(f"メールキャッチャー: SMTP {host}:{smtp_port} / 一覧 {catcher.http_url}", ending="\n")
        self.stdout.flush()
        # Cleanup stays inside the block: after Ctrl-C the demo also sends SIGTERM, which must not kill us midway.
        with stop_requested_on_signals() as stop:
            stop.wait()
            catcher.stop()
            self.stdout.write("メールキャッチャーを停止しました。")
