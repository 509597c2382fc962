"""Bad input: every problem gets a clear Japanese error at its row and column, and nothing is written."""

from django.test import override_settings

from mamori.core import actions
from mamori.core.models import Department, Person, RosterImport, VerifiedDomain
from mamori.core.roster import validation
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.core.tests.roster_files import HEADER, WARD_A_ROSTER, csv_bytes, staff, xlsx_bytes


class RosterTestCase(BaseTestCase):
    def snapshot(self) -> tuple:
        """Everything a roster import could change, for "nothing was written" assertions."""
        return (
            list(Person.objects.order_by("pk").values_list()),
            list(Department.objects.order_by("pk").values_list()),
        )

    def upload(self, content: bytes, filename: str = "roster.csv") -> RosterImport:
        return actions.upload_roster(self.ward_a, filename=filename, content=content, by=self.alice)

    def assert_rejected(self, content: bytes, *expected: tuple[int | None, str, str]) -> RosterImport:
        """Upload ``content``; it must be invalid with ``expected`` (row, column, message part) errors."""
        before = self.snapshot()
        roster_import = self.upload(content)
        self.assertEqual(roster_import.state, RosterImport.State.INVALID)
        for row, column, message in expected:
            self.assertTrue(
                any(
                    e["row"] == row and e["column"] == column and message in e["message"] for e in roster_import.errors
                ),
                f"no error {(row, column, message)} in {roster_import.errors}",
            )
        self.assertEqual(self.snapshot(), before)
        return roster_import


class FileLevelErrorTests(RosterTestCase):
    def test_it_names_the_missing_required_columns_once(self):
        content = csv_bytes([["A1", "佐藤"]], header=["職員番号", "氏名"])
        roster_import = self.assert_rejected(content, (1, "", "「メール」"))
        self.assertEqual(roster_import.error_count, 1)

    def test_it_names_all_missing_columns(self):
        roster_import = self.assert_rejected(csv_bytes([["x"]], header=["所属"]))
        message = roster_import.errors[0]["message"]
        for label in ("氏名", "メール", "職員番号"):
            self.assertIn(f"「{label}」", message)

    def test_it_rejects_two_columns_for_one_field(self):
        header = ["職員番号", "氏名", "メール", "メールアドレス"]
        self.assert_rejected(
            csv_bytes([["A1", "佐藤", "a@city-a.lg.jp", "b@city-a.lg.jp"]], header=header),
            (1, "メールアドレス", "どちらか一方"),
        )

    def test_it_rejects_unknown_encoding(self):
        roster_import = self.assert_rejected(csv_bytes(WARD_A_ROSTER, encoding="euc_jp"), (None, "", "文字コード"))
        self.assertEqual(roster_import.content, b"")

    def test_it_rejects_an_empty_file(self):
        self.assert_rejected(b"", (None, "", "ファイルが空です"))

    def test_it_rejects_a_header_without_rows(self):
        self.assert_rejected(csv_bytes([]), (1, "", "職員の行がありません"))

    def test_it_rejects_something_that_is_not_a_roster(self):
        self.assert_rejected(b"%PDF-1.7\n\x00\x01binary", (None, "", "CSV ではない"))

    def test_it_requires_a_verified_domain(self):
        VerifiedDomain.objects.filter(organization=self.ward_a).delete()
        self.assert_rejected(csv_bytes(WARD_A_ROSTER), (None, "", "確認済みメールドメインがありません"))

    @override_settings(UPLOAD_MAX_BYTES=100)
    def test_it_rejects_a_file_over_the_limit(self):
        self.assert_rejected(csv_bytes(WARD_A_ROSTER), (None, "", "ファイルが大きすぎます"))


class RowErrorTests(RosterTestCase):
    def test_it_reports_empty_required_cells_at_their_row(self):
        rows = [staff("A1", "", "a@city-a.lg.jp"), staff("", "佐藤", "b@city-a.lg.jp"), staff("A3", "鈴木", "")]
        self.assert_rejected(
            csv_bytes(rows),
            (2, "氏名", "必須の項目が空"),
            (3, "職員番号", "必須の項目が空"),
            (4, "メール", "必須の項目が空"),
        )

    def test_it_rejects_malformed_email(self):
        self.assert_rejected(csv_bytes([staff("A1", "佐藤", "sato@@city-a")]), (2, "メール", "形式が正しくありません"))

    def test_it_rejects_email_outside_verified_domains(self):
        roster_import = self.assert_rejected(
            csv_bytes([staff("A1", "佐藤", "sato@gmail.com")]), (2, "メール", "確認済みドメインではありません")
        )
        self.assertIn("city-a.lg.jp", roster_import.errors[0]["message"])

    def test_it_rejects_the_other_wards_domain(self):
        self.assert_rejected(csv_bytes([staff("A1", "佐藤", "sato@city-b.lg.jp")]), (2, "メール", "「city-b.lg.jp」"))

    def test_it_rejects_duplicate_employee_numbers(self):
        rows = [staff("A1", "佐藤", "a@city-a.lg.jp"), staff("A1", "鈴木", "b@city-a.lg.jp")]
        self.assert_rejected(csv_bytes(rows), (3, "職員番号", "2 行目と重複"))

    def test_it_rejects_duplicate_emails(self):
        rows = [staff("A1", "佐藤", "same@city-a.lg.jp"), staff("A2", "鈴木", "SAME@city-a.lg.jp")]
        self.assert_rejected(csv_bytes(rows), (3, "メール", "2 行目と重複"))

    def test_it_rejects_an_email_held_by_someone_not_in_the_file(self):
        # 山田 (person_a) is not in the file under his number, yet the file gives his address to A1.
        rows = [staff("A1", "佐藤", "yamada@city-a.lg.jp")]
        roster_import = self.assert_rejected(csv_bytes(rows), (2, "メール", "載っていない職員"))
        self.assertIn(self.person_a.employee_number, roster_import.errors[0]["message"])

    def test_it_rejects_an_email_held_by_a_deactivated_person(self):
        make_person(self.ward_a, "退職 者", email="left@city-a.lg.jp", employee_number="OLD1", active=False)
        self.assert_rejected(csv_bytes([staff("A1", "佐藤", "left@city-a.lg.jp")]), (2, "メール", "OLD1"))

    def test_it_rejects_unknown_employment_type(self):
        self.assert_rejected(
            csv_bytes([staff("A1", "佐藤", "a@city-a.lg.jp", employment="アルバイト")]),
            (2, "雇用区分", "「アルバイト」は使えません"),
        )

    def test_it_rejects_a_manager_not_in_the_file(self):
        rows = [staff("A1", "佐藤", "a@city-a.lg.jp", manager="Z999")]
        self.assert_rejected(csv_bytes(rows), (2, "上長", "「Z999」がこの名簿にいません"))

    def test_it_rejects_a_manager_email_not_in_the_file(self):
        rows = [staff("A1", "佐藤", "a@city-a.lg.jp", manager="nobody@city-a.lg.jp")]
        self.assert_rejected(csv_bytes(rows), (2, "上長", "この名簿にいません"))

    def test_it_rejects_a_person_as_their_own_manager(self):
        self.assert_rejected(csv_bytes([staff("A1", "佐藤", "a@city-a.lg.jp", manager="A1")]), (2, "上長", "自分自身"))

    def test_it_rejects_a_manager_cycle(self):
        rows = [
            staff("A1", "佐藤", "a@city-a.lg.jp", manager="A2"),
            staff("A2", "鈴木", "b@city-a.lg.jp", manager="A1"),
        ]
        self.assert_rejected(csv_bytes(rows), (2, "上長", "循環"), (3, "上長", "循環"))

    def test_it_rejects_formula_injection_cells(self):
        rows = [
            staff("A1", "=cmd|' /C calc'!A0", "a@city-a.lg.jp"),
            staff("A2", "鈴木", "b@city-a.lg.jp", position="+SUM(1)"),
            staff("A3", "高橋", "c@city-a.lg.jp", department="@evil"),
            staff("A4", "田中", "d@city-a.lg.jp", kana="-2+3"),
            staff("A5", "伊藤", "e@city-a.lg.jp", position="\t=1"),
            staff("A6", "渡辺", "f@city-a.lg.jp", position="\r=1"),
        ]
        roster_import = self.assert_rejected(
            csv_bytes(rows),
            (2, "氏名", "「=」で始まる値"),
            (3, "役職", "「+」"),
            (4, "所属", "「@」"),
            (5, "かな", "「-」"),
            (6, "役職", "タブ"),
            (7, "役職", "改行"),
        )
        self.assertEqual(roster_import.error_count, 6)

    def test_it_rejects_formula_injection_in_xlsx(self):
        self.assert_rejected(xlsx_bytes([staff("A1", '=HYPERLINK("http://x")', "a@city-a.lg.jp")]), (2, "氏名", "数式"))

    def test_a_lone_dash_is_an_empty_cell(self):
        roster_import = self.upload(csv_bytes([staff("A1", "佐藤", "a@city-a.lg.jp", position="-", manager="－")]))
        self.assertEqual(roster_import.state, RosterImport.State.VALIDATED)

    def test_it_rejects_values_longer_than_the_field(self):
        self.assert_rejected(csv_bytes([staff("A1", "佐" * 101, "a@city-a.lg.jp")]), (2, "氏名", "100 文字以内"))

    def test_it_reports_the_header_as_written(self):
        header = ["社員番号", "名前", "E-Mail"]
        self.assert_rejected(csv_bytes([["A1", "佐藤", "bad"]], header=header), (2, "E-Mail", "形式"))

    def test_it_caps_the_error_list_but_counts_everything(self):
        rows = [staff(f"A{n}", "佐藤", f"a{n}@gmail.com") for n in range(validation.MAX_ERRORS + 5)]
        roster_import = self.assert_rejected(csv_bytes(rows))
        self.assertEqual(len(roster_import.errors), validation.MAX_ERRORS)
        self.assertEqual(roster_import.error_count, validation.MAX_ERRORS + 5)


class HeaderAndValueTests(RosterTestCase):
    def check(self, content: bytes) -> RosterImport:
        roster_import = self.upload(content)
        self.assertEqual(roster_import.state, RosterImport.State.VALIDATED, roster_import.errors)
        return roster_import

    def test_it_accepts_english_headers(self):
        header = ["employee_number", "name", "kana", "email", "department", "position", "employment_type", "manager"]
        roster_import = self.check(csv_bytes(WARD_A_ROSTER, header=header))
        self.assertEqual(
            roster_import.summary["columns"], ["氏名", "メール", "職員番号", "所属", "役職", "雇用区分", "上長", "かな"]
        )

    def test_it_accepts_header_variants_and_stray_spaces(self):
        header = [
            " 社員番号",
            "氏名\u3000",
            "フリガナ",
            "メールアドレス",
            "所属部署",
            "職名",
            "雇用形態",
            "上司",
            "内線",
        ]
        roster_import = self.check(csv_bytes([[*row, "1234"] for row in WARD_A_ROSTER], header=header))
        self.assertEqual(roster_import.summary["ignored_columns"], ["内線"])
        self.assertEqual(roster_import.summary["counts"]["add"], 3)

    def test_full_width_addresses_and_numbers_are_normalised(self):
        rows = [staff("Ａ１", "佐藤", "ＳＡＴＯ＠city-a.lg.jp")]
        self.check(csv_bytes(rows))

    def test_only_required_columns_are_enough(self):
        self.check(csv_bytes([["A1", "佐藤", "a@city-a.lg.jp"]], header=[*HEADER[:2], "メール"]))
