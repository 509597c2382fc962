"""A live server and one headless Chromium per test class; console messages are collected for CSP checks."""

import unittest
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

CHROMIUM = Path("/usr/bin/chromium")
# As this machine needs them: no sandbox as root, and no background traffic to a network that is closed.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = settings.BASE_DIR / "test-results"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the test extras are not installed
    sync_playwright = None


needs_chromium = unittest.skipUnless(
    CHROMIUM.exists() and sync_playwright is not None,
    "ブラウザテストには Debian の Chromium（/usr/bin/chromium）と playwright が必要です（make test が入れます）",
)


class ChromiumMixin:
    """One headless Chromium per test class, a fresh context (cookies, storage) per test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.playwright = sync_playwright().start()
        cls.addClassCleanup(cls.playwright.stop)
        cls.browser = cls.playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        cls.addClassCleanup(cls.browser.close)

    def setUp(self):
        super().setUp()
        self.context = self.browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
        self.context.set_default_timeout(10_000)
        self.addCleanup(self.context.close)
        self.page = self.context.new_page()
        self.console_messages: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("console", self._collect_console_message)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _collect_console_message(self, message) -> None:
        self.console_messages.append(message.text)
        url = message.location.get("url", "")
        # Browsers ask every site for /favicon.ico on their own; its absence is not a broken page.
        if message.type == "error" and not url.endswith("/favicon.ico"):
            self.console_errors.append(f"{message.text} ({url})")

    def log_in(self, base_url: str, username: str, password: str) -> None:
        """Through the real login form, as a person would."""
        self.page.goto(base_url + "/accounts/login/")
        # The field's name may change (username, identifier); its autocomplete purpose does not.
        self.page.fill("input[autocomplete=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("form:has(input[name=password]) button[type=submit]")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_no_csp_violations(self) -> None:
        violations = [text for text in self.console_messages if "Content Security Policy" in text]
        self.assertEqual(violations, [], "CSP に違反するスクリプトやスタイルがあります")


@needs_chromium
class BrowserTestCase(ChromiumMixin, StaticLiveServerTestCase):
    """Pages of a live test server (the test database, static files from the finders)."""

    def url(self, path: str) -> str:
        return self.live_server_url + path
