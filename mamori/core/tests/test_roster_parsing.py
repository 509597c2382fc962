import codecs
import io
import zipfile

from django.test import SimpleTestCase, override_settings

from mamori.core.roster.parsing import RosterFileError, read_roster_file
from mamori.core.tests.roster_files import HEADER, WARD_A_ROSTER, csv_bytes, staff, xlsx_bytes


class CsvEncodingTests(SimpleTestCase):
    def test_it_reads_utf8_with_bom(self):
        content = csv_bytes(WARD_A_ROSTER, encoding="utf-8-sig")
        self.assertTrue(content.startswith(codecs.BOM_UTF8))
        table = read_roster_file(content)
        self.assertEqual(table.encoding, "utf-8-sig")
        self.assertEqual(table.header, HEADER)
        self.assertEqual(table.rows[0], (2, WARD_A_ROSTER[0]))

    def test_it_reads_utf8_without_bom(self):
        table = read_roster_file(csv_bytes(WARD_A_ROSTER, encoding="utf-8"))
        self.assertEqual(table.encoding, "utf-8")
        self.assertEqual(table.header[0], "職員番号")

    def test_it_reads_cp932_as_excel_writes_it(self):
        table = read_roster_file(csv_bytes(WARD_A_ROSTER, encoding="cp932"))
        self.assertEqual(table.encoding, "cp932")
        self.assertEqual(table.rows[1][1][1], "佐藤 一郎")

    def test_it_reads_cp932_only_characters(self):
        # 髙 and ① exist in CP932 (Windows) but not in plain Shift_JIS.
        table = read_roster_file(csv_bytes([staff("A1", "髙橋 ①", "a@city-a.lg.jp")], encoding="cp932"))
        self.assertEqual(table.rows[0][1][1], "髙橋 ①")

    def test_it_rejects_unknown_encoding(self):
        content = csv_bytes(WARD_A_ROSTER, encoding="euc_jp")
        with self.assertRaisesMessage(RosterFileError, "文字コードを判別できません"):
            read_roster_file(content)

    def test_it_rejects_utf16_with_advice(self):
        with self.assertRaisesMessage(RosterFileError, "UTF-16"):
            read_roster_file(csv_bytes(WARD_A_ROSTER, encoding="utf-16"))

    def test_it_reads_tab_separated_exports(self):
        table = read_roster_file(csv_bytes(WARD_A_ROSTER, encoding="utf-8", delimiter="\t"))
        self.assertEqual(table.header, HEADER)

    def test_it_numbers_rows_as_the_spreadsheet_does(self):
        content = '職員番号,氏名,メール\r\n\r\nA1,"改行\nあり",a@x.jp\r\nA2,次,b@x.jp\r\n'.encode()
        table = read_roster_file(content)
        self.assertEqual([number for number, _ in table.rows], [3, 4])

    def test_it_reports_an_unclosed_quote_with_its_line(self):
        content = '職員番号,氏名,メール\r\nA1,"山田,a@x.jp\r\nA2,鈴木,b@x.jp\r\n'.encode()
        with self.assertRaisesMessage(RosterFileError, "CSV の形式が正しくありません（3 行目付近）"):
            read_roster_file(content)


class XlsxTests(SimpleTestCase):
    def test_it_reads_xlsx(self):
        table = read_roster_file(xlsx_bytes(WARD_A_ROSTER))
        self.assertEqual(table.file_format, "xlsx")
        self.assertEqual(table.header, HEADER)
        self.assertEqual(table.rows[2], (4, WARD_A_ROSTER[2]))

    def test_it_turns_whole_numbers_into_plain_text(self):
        table = read_roster_file(xlsx_bytes([[1234, "山田 太郎", "", "y@city-a.lg.jp", "", "", "", 1000.0]]))
        self.assertEqual(table.rows[0][1][0], "1234")
        self.assertEqual(table.rows[0][1][7], "1000")

    def test_it_keeps_spreadsheet_row_numbers_below_blank_rows(self):
        table = read_roster_file(xlsx_bytes(WARD_A_ROSTER, blank_rows_above=2))
        self.assertEqual(table.header_row, 3)
        self.assertEqual(table.rows[0][0], 4)

    def test_it_rejects_a_zip_that_is_not_a_workbook(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("word/document.xml", "<w:document/>")
        with self.assertRaisesMessage(RosterFileError, "XLSX として読み取れません"):
            read_roster_file(buffer.getvalue())

    def test_it_rejects_a_broken_zip(self):
        with self.assertRaisesMessage(RosterFileError, "XLSX ファイルが壊れている"):
            read_roster_file(b"PK\x03\x04" + b"\x00garbage" * 10)

    def test_it_rejects_old_xls(self):
        with self.assertRaisesMessage(RosterFileError, ".xls"):
            read_roster_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)


class NotARosterTests(SimpleTestCase):
    def test_it_rejects_an_empty_file(self):
        with self.assertRaisesMessage(RosterFileError, "ファイルが空です"):
            read_roster_file(b"")

    def test_it_rejects_a_file_of_blank_lines(self):
        with self.assertRaisesMessage(RosterFileError, "ファイルが空です"):
            read_roster_file(b"\r\n\r\n  \r\n")

    def test_it_rejects_a_file_of_empty_cells(self):
        with self.assertRaisesMessage(RosterFileError, "内容がありません"):
            read_roster_file(b",,,\r\n,,\r\n")

    def test_it_rejects_binary_files(self):
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
        with self.assertRaises(RosterFileError):
            read_roster_file(png)

    @override_settings(UPLOAD_MAX_BYTES=1000)
    def test_it_rejects_files_over_the_limit(self):
        with self.assertRaisesMessage(RosterFileError, "ファイルが大きすぎます"):
            read_roster_file(b"a" * 1001)
