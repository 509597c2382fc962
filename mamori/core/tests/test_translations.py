"""The English catalog: it covers every Japanese msgid in the code, compiles cleanly and gives English pages.

The msgids are Japanese (docs/decisions/0002-japanese-source-strings.md); `make messages` refreshes
locale/en/LC_MESSAGES/django.po. These tests never write to the repository: the extraction runs on a copy of
the sources and the English pages use a catalog compiled into a temporary directory.
"""

import ast
import contextlib
import fnmatch
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from unittest import skipIf

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings
from django.urls import reverse
from django.utils import translation

from mamori.core.tests.base import BaseTestCase

REPOSITORY = Path(settings.BASE_DIR)
CATALOG = REPOSITORY / "locale" / "en" / "LC_MESSAGES" / "django.po"
# What scripts/make-messages.sh extracts from, and what it ignores (at any depth, as makemessages does).
EXTENSIONS = (".py", ".html", ".txt")
IGNORED = (".*", "__pycache__", "locale", "data", "bench", "test-results", "node_modules", "*.egg-info")
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib", "msgfmt")
MISSING_TOOLS = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
NO_GETTEXT = f"gettext is not installed ({', '.join(MISSING_TOOLS)} missing; make test installs it)"
LISTED_AT_MOST = 40

type MessageKey = tuple[str | None, str]


@dataclass(frozen=True)
class CatalogEntry:
    translations: tuple[str, ...]
    fuzzy: bool

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.translations) and all(self.translations)


def read_catalog(path: Path) -> dict[MessageKey, CatalogEntry]:
    """Parse a PO file as gettext writes it: (msgctxt, msgid) → its msgstr or msgstr[n] and fuzzy flag.

    Entries are separated by blank lines; the header (empty msgid) and obsolete "#~" entries are left out.
    """
    entries: dict[MessageKey, CatalogEntry] = {}
    fields: dict[str, str] = {}
    flags: set[str] = set()
    keyword = ""

    def finish_entry() -> None:
        if fields.get("msgid"):
            translations = tuple(value for name, value in fields.items() if name.startswith("msgstr"))
            entries[(fields.get("msgctxt"), fields["msgid"])] = CatalogEntry(translations, "fuzzy" in flags)
        fields.clear()
        flags.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish_entry()
        elif line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[keyword] += ast.literal_eval(line)
        else:
            keyword, _, quoted = line.partition(" ")
            fields[keyword] = ast.literal_eval(quoted)
    finish_entry()
    return entries


def is_ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED)


def copy_translatable_sources(destination: Path) -> None:
    """Copy the files `make messages` reads, so that makemessages can run without touching the repository.

    makemessages writes its output next to the nearest "locale" directory and its temporary *.html.py files
    next to each template; on a copy, both stay in the temporary directory.
    """

    def left_out(directory: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if is_ignored(name) or (Path(directory, name).is_file() and Path(name).suffix not in EXTENSIONS)
        }

    for entry in REPOSITORY.iterdir():
        if is_ignored(entry.name):
            continue
        if entry.is_dir():
            shutil.copytree(entry, destination / entry.name, ignore=left_out)
        elif entry.suffix in EXTENSIONS:
            shutil.copy2(entry, destination / entry.name)


def messages_in_the_code() -> set[MessageKey]:
    """Run makemessages as `make messages` does, into a temporary catalog, and return its msgids."""
    with tempfile.TemporaryDirectory() as temporary:
        sources, locale = Path(temporary, "sources"), Path(temporary, "locale")
        sources.mkdir()
        copy_translatable_sources(sources)
        with override_settings(LOCALE_PATHS=[locale]), contextlib.chdir(sources):
            call_command("makemessages", locale=["en"], domain="django", extensions=["html", "txt", "py"], verbosity=0)
        return set(read_catalog(locale / "en" / "LC_MESSAGES" / "django.po"))


def describe(key: MessageKey) -> str:
    context, msgid = key
    return f"  {msgid!r}" + (f" (context {context!r})" if context else "")


@skipIf(MISSING_TOOLS, NO_GETTEXT)
class CatalogTests(SimpleTestCase):
    def test_every_msgid_in_the_code_has_an_english_translation(self):
        committed = read_catalog(CATALOG)
        untranslated = sorted(
            key for key in messages_in_the_code() if key not in committed or not committed[key].translated
        )
        if untranslated:
            listed = "\n".join(describe(key) for key in untranslated[:LISTED_AT_MOST])
            more = len(untranslated) - LISTED_AT_MOST
            catalog = CATALOG.relative_to(REPOSITORY)
            self.fail(
                f"{len(untranslated)} msgid(s) in the code have no English translation in {catalog}"
                " (missing, empty or fuzzy). Run `make messages` and translate them:\n"
                + listed
                + (f"\n  … and {more} more" if more > 0 else "")
            )

    def test_the_catalog_passes_msgfmt_check(self):
        # --check compares every msgstr's placeholders with its msgid's (python-format), and the header.
        result = subprocess.run(
            ["msgfmt", "--check", "--output-file", "/dev/null", str(CATALOG)], capture_output=True, text=True
        )
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_the_catalog_declares_english_plurals(self):
        header = CATALOG.read_text(encoding="utf-8").split("\n\n", 1)[0]
        self.assertIn('"Language: en\\n"', header)
        self.assertIn('"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', header)


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes and the attributes shown as text."""

    SPOKEN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self):
        super().__init__()
        self.texts: set[str] = set()
        self.skipped_element = ""

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.skipped_element = tag
        self.texts.update((value or "").strip() for name, value in attrs if name in self.SPOKEN_ATTRIBUTES)

    def handle_endtag(self, tag):
        if tag == self.skipped_element:
            self.skipped_element = ""

    def handle_data(self, data):
        if not self.skipped_element:
            self.texts.add(data.strip())


def visible_texts(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts - {""}


@skipIf(MISSING_TOOLS, NO_GETTEXT)
class EnglishPagesTests(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The committed catalog, compiled here: the test does not depend on a .mo left by an earlier setup.
        compiled = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        messages = compiled / "en" / "LC_MESSAGES"
        messages.mkdir(parents=True)
        subprocess.run(["msgfmt", "--output-file", str(messages / "django.mo"), str(CATALOG)], check=True)
        cls.enterClassContext(override_settings(LOCALE_PATHS=[compiled]))
        cls.japanese_labels = {msgid for _, msgid in read_catalog(CATALOG)}

    def setUp(self):
        # A request activates English for this thread; later tests expect the default language again.
        self.addCleanup(translation.deactivate)
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def assertNoJapaneseLabels(self, response):
        leftovers = sorted(visible_texts(response.content.decode()) & self.japanese_labels)
        self.assertEqual(leftovers, [], "Japanese labels left untranslated on an English page")

    def test_the_login_page_is_in_english(self):
        response = self.client.get(reverse("accounts:login"))
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, "<h1>Sign in</h1>", html=True)
        self.assertContains(response, "Username or email address")
        self.assertContains(response, "Forgot your password?")
        self.assertNotContains(response, "パスワードを忘れた場合")
        self.assertNoJapaneseLabels(response)

    def test_accept_language_alone_selects_english(self):
        del self.client.cookies[settings.LANGUAGE_COOKIE_NAME]
        response = self.client.get(reverse("accounts:login"), headers={"Accept-Language": "en"})
        self.assertContains(response, "<h1>Sign in</h1>", html=True)
        self.assertNotContains(response, "ログイン")

    def test_the_people_list_is_in_english_for_an_auditor(self):
        self.login(self.bob)
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "<h1>Staff roster</h1>", html=True)
        for label in ("Employment type", "Department", "Employee number", "Active only", "Filter", "Sign out"):
            self.assertContains(response, label)
        self.assertContains(response, "山田 太郎")  # the roster's own data stays as entered
        for label in ("職員名簿", "雇用区分", "職員番号", "在籍のみ", "絞り込む", "ログアウト"):
            self.assertNotContains(response, label)
        self.assertNoJapaneseLabels(response)

    def test_charlie_sees_only_his_wards_staff_in_english_too(self):
        self.login(self.charlie)
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "<h1>Staff roster</h1>", html=True)
        self.assertContains(response, "鈴木 花子")
        self.assertNotContains(response, "山田 太郎")
