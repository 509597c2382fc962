"""`mamori demo`: the README's first command — database, demo ward, mail catcher, worker and web server.

Runs everything as child processes of the same Python and stops them all on Ctrl-C (or SIGTERM).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from mamori.core.demo import prepare_demo
from mamori.core.management.commands.mailcatcher import HTTP_PORT_OFFSET
from mamori.core.management.commands.seed_demo import describe_logins
from mamori.core.management.stopping import stop_requested_on_signals

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_listening(host: str, port: int, child: subprocess.Popen, stop: threading.Event) -> bool:
    """True once ``host:port`` accepts connections; False if the child died, a stop came or time ran out."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline and child.poll() is None and not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            stop.wait(0.2)
    return False


def stop_children(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child, then SIGKILL to the process group of any that does not stop in time."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # The group holds what the child started itself (granian's worker processes).
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


class Command(BaseCommand):
    help = (
        "デモを起動します: データベースの準備、デモ区の作成、メールキャッチャー・ワーカー・Web サーバーの起動。"
        "Ctrl-C ですべて停止します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス（既定: 127.0.0.1）")
        parser.add_argument("--port", type=int, default=settings.WEB_PORT, help="Web のポート（既定: 8000）")
        parser.add_argument(
            "--mail-port",
            type=int,
            default=settings.MAILERS["default"]["OPTIONS"]["port"],
            help="メールキャッチャーの SMTP ポート（既定: 1025、一覧ページはその +55）",
        )

    def handle(self, *args, host, port, mail_port, **options):
        if not settings.DEMO:
            raise CommandError(
                "デモは MAMORI_DEMO=1 で起動してください（`make demo` と `mamori demo` は自動で設定します）。"
            )
        mail_http_port = mail_port + HTTP_PORT_OFFSET
        busy = [number for number in (port, mail_port, mail_http_port) if not port_is_free(host, number)]
        if busy:
            raise CommandError(
                f"ポート {', '.join(map(str, busy))} は使用中です。前回のデモがまだ動いていないか確認するか、"
                "--port / --mail-port で別のポートを指定してください。"
            )
        self.stdout.write("データベースを準備しています…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("デモ区を用意しています…")
        logins = prepare_demo()

        # From the first child on, SIGTERM and Ctrl-C only set ``stop``: the children are always stopped.
        with stop_requested_on_signals() as stop:
            children = self.start_children(host, port, mail_port, mail_http_port)
            try:
                if wait_until_listening(host, port, children[-1], stop):
                    self.print_banner(host, port, mail_http_port, logins)
                    self.supervise(children, stop)
                elif not stop.is_set():
                    raise CommandError("Web サーバーが起動しませんでした。上のログを確認してください。")
            finally:
                stop_children(children)
        self.stdout.write("デモを停止しました。")

    def start_children(self, host: str, port: int, mail_port: int, mail_http_port: int) -> list[subprocess.Popen]:
        environment = {
            **os.environ,
            "MAMORI_DEMO": "1",
            "EMAIL_HOST": host,
            "EMAIL_PORT": str(mail_port),
            "SITE_URL": f"http://{host}:{port}",
            "PYTHONUNBUFFERED": "1",
        }
        commands = [
            ["mailcatcher", "--host", host, "--smtp-port", str(mail_port), "--http-port", str(mail_http_port)],
            ["worker"],
            ["serve", "--host", host, "--port", str(port)],
        ]
        # Each child leads its own process group, so Ctrl-C in the terminal reaches only this process, which
        # then stops each child with exactly one SIGTERM (granian, given SIGINT and SIGTERM at once, can
        # leave a worker process behind).
        return [
            subprocess.Popen(  # noqa: S603 (our own Python and commands)
                [sys.executable, "-m", "mamori", *command], env=environment, process_group=0
            )
            for command in commands
        ]

    def print_banner(self, host: str, port: int, mail_http_port: int, logins) -> None:
        rule = "─" * 72
        lines = [
            rule,
            "mamori のデモが起動しました（Ctrl-C ですべて停止します）",
            f"  アプリ      http://{host}:{port}/",
            f"  受信メール  http://{host}:{mail_http_port}/  （送信されたメールはすべてここに届きます）",
            "  ログイン（起動のたびに新しいパスワードになります）:",
            *describe_logins(logins),
            f"  データ      {settings.DATABASES['default']['NAME']}",
            rule,
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def supervise(self, children: list[subprocess.Popen], stop: threading.Event) -> None:
        """Wait for Ctrl-C/SIGTERM; if a child dies on its own, say which and stop the others."""
        while not stop.is_set():
            for child in children:
                if child.poll() is not None:
                    raise CommandError(f"{child.args[3]} が終了しました（終了コード {child.returncode}）。")
            stop.wait(0.5)
