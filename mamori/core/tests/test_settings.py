"""The typed environment helpers of settings.py: a bad value stops start-up with a clear error."""

import os
import tempfile
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from mamori.settings import database_from_url, envbool, envint, envlist, envsecret


class EnvBoolTests(SimpleTestCase):
    def test_it_reads_the_usual_spellings(self):
        for value, expected in [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("off", False)]:
            with self.subTest(value=value), mock.patch.dict(os.environ, {"FLAG": value}):
                self.assertIs(envbool("FLAG", not expected), expected)

    def test_it_uses_the_default_when_unset_or_empty(self):
        with mock.patch.dict(os.environ, {"FLAG": ""}):
            self.assertIs(envbool("FLAG", True), True)
        self.assertIs(envbool("MAMORI_UNSET_FLAG", False), False)

    def test_it_rejects_a_bad_value(self):
        with mock.patch.dict(os.environ, {"FLAG": "maybe"}), self.assertRaisesMessage(ImproperlyConfigured, "FLAG"):
            envbool("FLAG", False)


class EnvIntAndListTests(SimpleTestCase):
    def test_it_rejects_a_non_integer(self):
        with mock.patch.dict(os.environ, {"PORT": "eighty"}), self.assertRaises(ImproperlyConfigured):
            envint("PORT", 80)

    def test_it_splits_lists_and_drops_blanks(self):
        with mock.patch.dict(os.environ, {"HOSTS": " a.example.jp, ,b.example.jp "}):
            self.assertEqual(envlist("HOSTS"), ["a.example.jp", "b.example.jp"])


class EnvSecretTests(SimpleTestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = Path(directory.name)

    def test_it_reads_the_file_named_by_name_file(self):
        secret_file = self.directory / "password"
        secret_file.write_text("s3cret-from-file\n", encoding="utf-8")
        with mock.patch.dict(os.environ, {"SMTP_PASSWORD_FILE": str(secret_file), "SMTP_PASSWORD": "ignored"}):
            self.assertEqual(envsecret("SMTP_PASSWORD"), "s3cret-from-file")

    def test_it_falls_back_to_the_variable_itself(self):
        with mock.patch.dict(os.environ, {"SMTP_PASSWORD": "plain"}):
            self.assertEqual(envsecret("SMTP_PASSWORD"), "plain")

    def test_it_rejects_an_unreadable_file(self):
        missing = self.directory / "missing"
        with (
            mock.patch.dict(os.environ, {"SMTP_PASSWORD_FILE": str(missing)}),
            self.assertRaisesMessage(ImproperlyConfigured, "SMTP_PASSWORD_FILE"),
        ):
            envsecret("SMTP_PASSWORD")


class DatabaseFromUrlTests(SimpleTestCase):
    def test_it_reads_a_postgresql_url(self):
        database = database_from_url("postgres://mamori:p%40ss@db.internal:5433/mamori_prod?sslmode=require")
        self.assertEqual(database["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(
            (database["NAME"], database["USER"], database["PASSWORD"], database["HOST"], database["PORT"]),
            ("mamori_prod", "mamori", "p@ss", "db.internal", "5433"),
        )
        self.assertEqual(database["OPTIONS"], {"sslmode": "require"})

    def test_it_defaults_the_postgresql_database_name(self):
        self.assertEqual(database_from_url("postgresql://postgres@127.0.0.1")["NAME"], "mamori")

    def test_it_reads_a_sqlite_url_and_creates_the_directory(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "nested" / "mamori.sqlite3"
            database = database_from_url(f"sqlite:///{path}")
            self.assertEqual(database["ENGINE"], "django.db.backends.sqlite3")
            self.assertEqual(database["NAME"], str(path))
            self.assertTrue(path.parent.is_dir())

    def test_it_rejects_an_unknown_scheme(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "mysql"):
            database_from_url("mysql://root@localhost/mamori")


class SqliteURLFormTests(SimpleTestCase):
    def test_three_slashes_are_relative_and_four_absolute(self):
        self.assertEqual(database_from_url("sqlite:///data/x.sqlite3")["NAME"], "data/x.sqlite3")
        self.assertEqual(database_from_url("sqlite:////srv/x.sqlite3")["NAME"], "/srv/x.sqlite3")
