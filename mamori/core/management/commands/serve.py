"""`mamori serve`: the web application under granian (WSGI), with the collected static files."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from granian import Granian
from granian.constants import Interfaces


class Command(BaseCommand):
    help = "Web サーバー（granian, WSGI）を起動します。静的ファイルは collectstatic 済みの STATIC_ROOT から配信します。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.WEB_HOST, help="待ち受けるアドレス（既定: WEB_HOST）")
        parser.add_argument("--port", type=int, default=settings.WEB_PORT, help="ポート（既定: WEB_PORT）")
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS, help="プロセス数（既定: WEB_WORKERS）")
        parser.add_argument(
            "--threads", type=int, default=settings.WEB_THREADS, help="プロセスごとのスレッド数（既定: WEB_THREADS）"
        )

    def handle(self, *args, host, port, workers, threads, **options):
        static_root = settings.STATIC_ROOT
        if not (static_root / "mamori").is_dir():
            raise CommandError(
                f"静的ファイルがありません。先に `mamori collectstatic --noinput` を実行してください（{static_root}）。"
            )
        self.stdout.write(f"Web サーバー: http://{host}:{port}/ (workers={workers}, threads={threads})")
        self.stdout.flush()
        Granian(
            "mamori.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            static_path_route=[settings.STATIC_URL.rstrip("/")],
            static_path_mount=[static_root],
            # Hashed names are not used, so a day of caching keeps upgrades visible by the next morning.
            static_path_expires=86400,
            respawn_failed_workers=True,
        ).serve()
