"""Production settings pass `mamori check --deploy` cleanly, and refuse to start without a secret key."""

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

# Only what a shell needs: the tests' own variables (MAMORI_TESTING, DATABASE_URL …) must not leak in.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


def run_mamori(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="mamori.settings", **environment)
    return subprocess.run(
        [sys.executable, "-m", "mamori", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class DeployCheckTests(SimpleTestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.data_dir = Path(directory.name)
        self.production = {
            "ALLOWED_HOSTS": "mamori.city-a.lg.jp",
            "DATABASE_URL": f"sqlite:///{self.data_dir / 'mamori.sqlite3'}",
            "MAMORI_DATA_DIR": str(self.data_dir),
        }

    def test_production_settings_pass_the_deploy_check_without_warnings(self):
        result = run_mamori(
            "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50), **self.production
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("System check identified no issues", result.stdout)

    def test_it_reads_the_secret_key_from_a_file(self):
        key_file = self.data_dir / "secret_key"
        key_file.write_text(secrets.token_urlsafe(50) + "\n", encoding="utf-8")
        result = run_mamori(
            "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY_FILE=str(key_file), **self.production
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_it_refuses_to_start_without_a_secret_key(self):
        result = run_mamori("check", **self.production)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImproperlyConfigured", result.stderr)
        self.assertIn("SECRET_KEY (or SECRET_KEY_FILE) must be set", result.stderr)

    def test_the_demo_starts_without_a_secret_key(self):
        result = run_mamori("check", MAMORI_DEMO="1", **self.production)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
