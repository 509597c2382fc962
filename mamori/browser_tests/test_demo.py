"""The README's first command end to end: `mamori demo` starts, serves the demo ward, catches mail, stops on Ctrl-C."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from django.conf import settings
from django.test import SimpleTestCase
from playwright.sync_api import expect

from mamori.browser_tests.base import ChromiumMixin, needs_chromium
from mamori.core.demo import DEMO_STAFF
from mamori.core.management.commands.demo import port_is_free
from mamori.core.management.commands.mailcatcher import HTTP_PORT_OFFSET

# Only what a shell needs: the demo must start without any of the tests' variables.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
START_TIMEOUT_SECONDS = 120
BANNER_END = "─" * 72


def free_port_pair() -> tuple[int, int]:
    """A free port whose neighbour +55 (the mail catcher's page) is free as well."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + HTTP_PORT_OFFSET < 65536 and port_is_free("127.0.0.1", port + HTTP_PORT_OFFSET):
            return port, port + HTTP_PORT_OFFSET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_chromium
class DemoCommandTests(ChromiumMixin, SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data_dir = tempfile.TemporaryDirectory()
        cls.addClassCleanup(data_dir.cleanup)
        cls.web_port = free_port()
        cls.mail_port, cls.mail_http_port = free_port_pair()
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        env.update(MAMORI_DATA_DIR=data_dir.name, PYTHONUNBUFFERED="1")
        cls.demo = subprocess.Popen(
            [sys.executable, "-m", "mamori", "demo", "--port", str(cls.web_port), "--mail-port", str(cls.mail_port)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        cls.addClassCleanup(cls.stop_demo)
        cls.lines: queue.Queue[str] = queue.Queue()
        cls.output: list[str] = []
        cls.reader = threading.Thread(target=cls.read_output, daemon=True)
        cls.reader.start()
        cls.banner = cls.wait_for_banner()

    @classmethod
    def read_output(cls) -> None:
        for line in cls.demo.stdout:
            cls.lines.put(line)

    @classmethod
    def wait_for_banner(cls) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = cls.lines.get(timeout=1)
            except queue.Empty:
                if cls.demo.poll() is not None:
                    break
                continue
            cls.output.append(line)
            if line.strip() == BANNER_END and sum(1 for seen in cls.output if seen.strip() == BANNER_END) == 2:
                return "".join(cls.output)
        raise AssertionError("mamori demo did not print its banner:\n" + "".join(cls.output))

    @classmethod
    def stop_demo(cls) -> None:
        if cls.demo.poll() is None:
            cls.demo.kill()
            cls.demo.wait()

    def password_of(self, username: str) -> str:
        match = re.search(rf"^\s+{username}\s+パスワード (\S+)", self.banner, re.MULTILINE)
        self.assertIsNotNone(match, self.banner)
        return match.group(1)

    def test_the_demo_runs_the_ward_its_mail_and_stops_on_ctrl_c(self):
        app_url = f"http://127.0.0.1:{self.web_port}"
        mail_url = f"http://127.0.0.1:{self.mail_http_port}/"
        self.assertIn(f"アプリ      {app_url}/", self.banner)
        self.assertIn(f"受信メール  {mail_url}", self.banner)
        self.assertIn("初回ログイン時に二要素認証（TOTP）の登録を求められます", self.banner)

        # 1. The auditor sees the seeded ward through granian, static files and htmx included.
        self.log_in(app_url, "auditor", self.password_of("auditor"))
        self.page.goto(app_url + "/people/")
        expect(self.page.locator("#people-results")).to_contain_text(f"{DEMO_STAFF} 人")
        expect(self.page.locator("body")).to_have_css("font-family", re.compile("Noto Sans CJK JP"))
        self.screenshot("demo-people")

        # 2. Mail from the app lands in the catcher, readable in the browser.
        self.context.clear_cookies()
        self.page.goto(app_url + "/accounts/password/reset/")
        self.page.fill("input[type=email]", "admin@demo-ku.example.jp")
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")
        self.page.goto(mail_url)
        expect(self.page.locator("table")).to_contain_text("admin@demo-ku.example.jp", timeout=15_000)
        self.page.click("table a")
        expect(self.page.locator("pre")).to_contain_text(f"{app_url}/accounts/password/reset/")
        self.screenshot("demo-mail")
        self.assertEqual(self.console_errors, [])

        # 3. Ctrl-C stops the demo and every process it started.
        self.demo.send_signal(signal.SIGINT)
        self.assertEqual(self.demo.wait(timeout=60), 0)
        self.reader.join(timeout=10)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        self.assertIn("デモを停止しました。", "".join(self.output))
        for port in (self.web_port, self.mail_port, self.mail_http_port):
            self.assertTrue(port_is_free("127.0.0.1", port), f"port {port} is still in use")
