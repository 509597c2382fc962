import io
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.test import SimpleTestCase, TestCase

from mamori.core.tests.makers import make_organization
from mamori.drills.actions.scenarios import sync_library
from mamori.drills.library import LIBRARY_DIR, THREAT_TAGS, LibraryError, load_library
from mamori.drills.models import Scenario
from mamori.drills.rendering import render_preview

# The topics issue #3 requires, by the library names that cover them.
REQUIRED_TOPICS = {
    "総務課の通達（要返信）",
    "住民税の算定誤りのお詫びと訂正",
    "システムのパスワード失効通知",
    "委託先からの請求書",
    "人事異動の内示",
    "災害時の緊急連絡",
    "議会資料の照会",
    "国・都からの照会（回答依頼）",
    "健康診断の案内",
    "返信を装う（Emotet型の返信チェーン）",
    "QRコードでの多要素認証更新（クイッシング）",
    "生成AIによる自然な日本語の業者連絡",
    "宅配の不在通知",
    "研修参加のお礼",
    "住民からの問い合わせ",
}

GOOD_ENTRY = """
key = "{key}"
name = "テスト"
lure_type = "link"
threat_tags = ["notice"]
premise_alignment = "high"
sender_name = "総務課"
sender_address = "{address}"
subject = "通達の件"
text_body = "{{{{ person_name }}}} 様\\n{{{{ link }}}}\\n至急ご確認ください。"

[[cues]]
label = "差出人"
detail = "区のドメインではありません。"
excerpt = "総務課"

[[cues]]
label = "急がせる"
detail = "至急と急がせています。"
excerpt = "{excerpt}"

[[cues]]
label = "リンク"
detail = "外部のリンクです。"
excerpt = "様"
"""


def write_entry(directory: Path, key="test-entry", address="a@soumu.example.jp", excerpt="至急ご確認ください"):
    (directory / f"{key}.toml").write_text(GOOD_ENTRY.format(key=key, address=address, excerpt=excerpt), "utf-8")


class LibraryContentTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.entries = load_library()

    def test_it_has_at_least_fifteen_scenarios_covering_the_required_topics(self):
        self.assertGreaterEqual(len(self.entries), 15)
        self.assertLessEqual(REQUIRED_TOPICS, {entry["name"] for entry in self.entries})

    def test_every_scenario_has_three_to_six_cues_with_excerpts(self):
        for entry in self.entries:
            with self.subTest(entry["library_key"]):
                self.assertTrue(3 <= len(entry["cues"]) <= 6)
                for cue in entry["cues"]:
                    self.assertTrue(cue["label"] and cue["detail"] and cue["excerpt"])

    def test_every_scenario_renders_in_japanese_for_a_real_person(self):
        ward = type("Ward", (), {"name": "デモ区"})()
        person = type("Person", (), {"name": "小林 さくら", "position": "主任", "department": None})()
        for entry in self.entries:
            with self.subTest(entry["library_key"]):
                mail = render_preview(Scenario(**entry), person, ward)
                self.assertTrue(mail.subject and mail.text)
                self.assertNotIn("{{", mail.text + mail.subject + mail.html)

    def test_scenarios_use_only_example_domains_and_known_tags(self):
        for entry in self.entries:
            with self.subTest(entry["library_key"]):
                self.assertRegex(entry["sender_address"], r"@([a-z0-9-]+\.)*example(\.(jp|com|net|org))?$")
                self.assertLessEqual(set(entry["threat_tags"]), THREAT_TAGS.keys())

    def test_the_library_spans_all_three_difficulties_and_every_lure(self):
        scenarios = [Scenario(**entry) for entry in self.entries]
        self.assertEqual({scenario.difficulty.label for scenario in scenarios}, {"難", "中", "易"})
        self.assertEqual({scenario.lure_type for scenario in scenarios}, set(Scenario.LureType.values))

    def test_the_quishing_scenario_shows_a_qr_code(self):
        [entry] = [entry for entry in self.entries if entry["lure_type"] == "qr_code"]
        self.assertIn("{{ qr_image }}", entry["html_body"])
        self.assertIn("quishing", entry["threat_tags"])

    def test_the_fluent_ai_scenario_is_very_hard(self):
        [entry] = [entry for entry in self.entries if "ai_fluent" in entry["threat_tags"]]
        self.assertEqual(entry["premise_alignment"], "high")
        self.assertEqual(Scenario(**entry).difficulty.label, "難")


class LibraryValidationTests(SimpleTestCase):
    def setUp(self):
        self.directory = Path(tempfile.mkdtemp())

    def test_a_valid_file_loads(self):
        write_entry(self.directory)
        [entry] = load_library(self.directory)
        self.assertEqual(entry["library_key"], "test-entry")

    def test_it_refuses_an_excerpt_not_in_the_mail(self):
        write_entry(self.directory, excerpt="本文にない文言")
        with self.assertRaisesRegex(LibraryError, "not in the mail"):
            load_library(self.directory)

    def test_it_refuses_a_real_domain(self):
        write_entry(self.directory, address="soumu@city.example-ward.lg.jp")
        with self.assertRaisesRegex(LibraryError, "example domain"):
            load_library(self.directory)

    def test_it_refuses_a_sandbox_escape(self):
        (self.directory / "x.toml").write_text(
            (LIBRARY_DIR / "soumu-tsutatsu.toml")
            .read_text("utf-8")
            .replace("{{ link }}", "{{ link.__class__ }}", 1)
            .replace('key = "soumu-tsutatsu"', 'key = "x"'),
            "utf-8",
        )
        with self.assertRaisesRegex(LibraryError, "「_」で始まる名前"):
            load_library(self.directory)


class LibrarySyncTests(TestCase):
    def test_a_fresh_database_already_has_the_library(self):
        keys = set(Scenario.objects.filter(organization__isnull=True).values_list("library_key", flat=True))
        self.assertEqual(keys, {entry["library_key"] for entry in load_library()})

    def test_syncing_again_changes_nothing(self):
        before = dict(Scenario.objects.filter(organization__isnull=True).values_list("library_key", "updated_at"))
        result = sync_library()
        self.assertEqual((result.created, result.updated, result.archived), (0, 0, 0))
        after = dict(Scenario.objects.filter(organization__isnull=True).values_list("library_key", "updated_at"))
        self.assertEqual(before, after)

    def test_it_restores_an_edited_library_scenario_and_archives_a_removed_one(self):
        entries = load_library()
        Scenario.objects.filter(library_key=entries[0]["library_key"]).update(subject="改ざん")
        result = sync_library(entries[:-1])
        self.assertEqual((result.updated, result.archived), (1, 1))
        self.assertEqual(Scenario.objects.get(library_key=entries[0]["library_key"]).subject, entries[0]["subject"])
        self.assertTrue(Scenario.objects.get(library_key=entries[-1]["library_key"]).archived)

    def test_it_leaves_wards_scenarios_alone(self):
        ward = make_organization("ward-x", "X区", domain="city-x.lg.jp")
        own = Scenario.objects.create(
            organization=ward,
            library_key="soumu-tsutatsu",
            name="区の版",
            subject="s",
            sender_name="n",
            sender_address="a@example.jp",
            text_body="t",
        )
        sync_library()
        own.refresh_from_db()
        self.assertEqual((own.name, own.organization), ("区の版", ward))

    def test_the_command_reports_what_it_did(self):
        output = io.StringIO()
        call_command("load_scenarios", stdout=output)
        self.assertIn("追加 0、更新 0", output.getvalue())
