"""The exports, opened and parsed: XLSX (openpyxl), CSV (UTF-8 with BOM and CP932), PDF (pypdf text)."""

import csv
import datetime
import io
import random
import zipfile

from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from mamori.core.models import AuditEntry, Membership, Organization, Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.drills.models import Campaign
from mamori.metrics import charts, exports, kpis, rollups, synthetic

TODAY = datetime.date(2027, 4, 30)
HIRED = datetime.datetime(2020, 4, 1, tzinfo=datetime.UTC)
# A department named like a formula, with characters CP932 cannot hold (〜 has a CP932 look-alike, 📧 none).
INJECTED = "=1+1係"
ODD_POSITION = "技師〜📧"
SECRET_WARD = "ひみつ区"
B_CAMPAIGN_TITLE = "B区 第1回の訓練"


def staff(organization, department, count: int, **fields) -> list[Person]:
    """People on the roster since before the fiscal year (the drills reach those in post at launch)."""
    fields.setdefault("created_at", HIRED)
    return [
        make_person(organization, f"出力対象職員{department.pk}-{number}", department=department, **fields)
        for number in range(count)
    ]


def drill(organization, people, rounds) -> None:
    synthetic.drill_history(organization, people, rounds, random.Random(organization.pk), today=TODAY)
    rollups.refresh_organization(organization, 2026)


def sheet_values(workbook) -> list:
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def csv_table(content: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding))))


class ExportTestCase(BaseTestCase):
    """Ward A: two rounds of 2026 for 22 people (one department named like a formula); ward B and ひみつ区: one."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.injected = make_department(cls.ward_a, INJECTED)
        cls.small = make_department(cls.ward_a, "区民部/税務課/小さな係")
        people = staff(cls.ward_a, cls.general_affairs, 8)
        people += staff(cls.ward_a, cls.tax, 8, employment_type=Person.EmploymentType.FISCAL_YEAR)
        people += staff(cls.ward_a, cls.injected, 6, position=ODD_POSITION)
        people += staff(cls.ward_a, cls.small, 2)
        drill(cls.ward_a, people, [(2026, 1), (2026, 2)])

        drill(cls.ward_b, staff(cls.ward_b, make_department(cls.ward_b, "企画部/企画課"), 8), [(2026, 1)])
        Campaign.objects.filter(organization=cls.ward_b).update(title=B_CAMPAIGN_TITLE)
        cls.secret = make_organization("himitsu-ku", SECRET_WARD)
        drill(cls.secret, staff(cls.secret, make_department(cls.secret, "総務部"), 6), [(2026, 1)])

        cls.manager = make_user("dora", organization=cls.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=cls.manager).update(department=cls.tax.parent)  # 区民部
        cls.small_manager = make_user("eve", organization=cls.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=cls.small_manager).update(department=cls.small)
        cls.joint_body = make_organization("joint-csirt", "特別区共同CSIRT", kind=Organization.Kind.JOINT)
        cls.joanna = make_user("joanna", organization=cls.joint_body, role=Membership.Role.JOINT_ADMIN)
        Membership.objects.create(user=cls.joanna, organization=cls.ward_a, role=Membership.Role.AUDITOR)

    def fetch(self, name: str, user=None, **query):
        self.login(user or self.alice)
        return self.client.get(reverse(f"metrics:{name}"), {"fy": 2026, **query})


class WardXlsxTests(ExportTestCase):
    def test_it_has_a_sheet_per_section_with_japanese_headers_and_the_dashboard_s_figures(self):
        response = self.fetch("export-xlsx")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], exports.XLSX_CONTENT_TYPE)
        self.assertIn("attachment", response["Content-Disposition"])
        workbook = load_workbook(io.BytesIO(response.content))
        for name in (
            "概要",
            "指標",
            "実施回の推移",
            "四半期の推移",
            "所属別",
            "役職別",
            "雇用区分別",
            "部署対抗",
            "定義",
        ):
            self.assertIn(name, workbook.sheetnames)
        self.assertEqual(workbook["概要"]["B2"].value, "A区")
        indicators = workbook["指標"]
        self.assertEqual([cell.value for cell in indicators[1]][:6], ["指標", "値", "分子", "分母", "目標", "判定"])
        dashboard = kpis.ward_dashboard(self.ward_a, 2026)
        rows = {row[0]: row for row in indicators.iter_rows(min_row=2, values_only=True)}
        expected = dashboard.figures["report_rate_1h"]
        row = rows[str(kpis.KPIS["report_rate_1h"].label)]
        self.assertAlmostEqual(row[1], expected.value / 100)
        self.assertEqual((row[2], row[3]), (expected.numerator, expected.denominator))
        self.assertEqual(indicators.cell(row=2, column=2).number_format, "0.0%")
        rounds = workbook["実施回の推移"]
        self.assertEqual(rounds.max_row, 3)  # the header and two rounds
        self.assertEqual(rounds["A2"].value, "2026年度 第1回")

    def test_it_draws_native_excel_charts(self):
        response = self.fetch("export-xlsx")

        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            charts_in_file = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
            chart_xml = archive.read(charts_in_file[0]).decode()
        self.assertGreaterEqual(len(charts_in_file), 2)  # the rounds' lines and the ranking's bars
        self.assertIn("<lineChart>", chart_xml)
        self.assertIn("実施回の推移", chart_xml)

    def test_formula_like_text_is_escaped(self):
        workbook = load_workbook(io.BytesIO(self.fetch("export-xlsx").content))

        values = [value for value in sheet_values(workbook) if isinstance(value, str)]
        self.assertIn(f"'{INJECTED}", values)
        self.assertFalse([value for value in values if value.startswith(exports.FORMULA_STARTS)])
        self.assertFalse(
            [
                cell
                for sheet in workbook.worksheets
                for row in sheet.iter_rows()
                for cell in row
                if cell.data_type == "f"
            ]
        )

    def test_it_is_audited(self):
        self.fetch("export-xlsx")

        entry = AuditEntry.objects.get(action="metrics.exported")
        self.assertEqual((entry.organization, entry.actor, entry.details["format"]), (self.ward_a, self.alice, "xlsx"))


class WardCsvTests(ExportTestCase):
    def test_utf8_has_a_bom_and_the_dashboard_s_figures(self):
        response = self.fetch("export-csv")

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"\xef\xbb\xbf"))
        table = csv_table(response.content, "utf-8-sig")
        self.assertEqual(table[0][:6], ["年度", "区分", "対象", "人数・配信数", "指標", "値"])
        label = str(kpis.KPIS["report_rate_1h"].label)
        row = next(row for row in table if row[1] == "指標" and row[4] == label)
        figure = kpis.ward_dashboard(self.ward_a, 2026).figures["report_rate_1h"]
        self.assertAlmostEqual(float(row[5]), figure.value, places=2)
        self.assertEqual((row[6], row[7], row[8]), ("%", str(figure.numerator), str(figure.denominator)))
        self.assertIn(ODD_POSITION, response.content.decode("utf-8-sig"))
        self.assertTrue(any(row[1] == "部署対抗" for row in table))

    def test_cp932_replaces_what_it_cannot_hold_and_maps_look_alikes(self):
        response = self.fetch("export-csv", encoding="cp932")

        self.assertEqual(response.status_code, 200)
        self.assertIn("charset=cp932", response["Content-Type"])
        text = response.content.decode("cp932")  # strict: every byte is valid CP932
        self.assertIn("技師～?", text)
        self.assertIn("1時間以内の報告率", text)
        self.assertNotIn("✕", text)

    def test_formula_like_text_is_escaped(self):
        table = csv_table(self.fetch("export-csv").content, "utf-8-sig")

        cells = [cell for row in table for cell in row]
        self.assertIn(f"'{INJECTED}", cells)
        self.assertFalse([cell for cell in cells if cell.startswith(exports.FORMULA_STARTS)])

    def test_an_unknown_encoding_is_refused_in_japanese(self):
        response = self.fetch("export-csv", encoding="latin-1")

        self.assertEqual(response.status_code, 400)
        self.assertIn("utf-8 または cp932", response.content.decode())


class WardPdfTests(ExportTestCase):
    def test_it_is_a_japanese_report_with_kpis_ranking_and_definitions(self):
        response = self.fetch("report-pdf")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        text = pdf_text(response.content)
        for expected in (
            "標的型攻撃メール訓練",
            "A区",
            "2026年度",
            "1時間以内の報告率",
            "目標",
            "部署対抗",
            "定義と注記",
        ):
            self.assertIn(expected, text)
        reader = PdfReader(io.BytesIO(response.content))
        self.assertGreaterEqual(len(reader.pages), 3)

    def test_it_embeds_the_japanese_font(self):
        content = self.fetch("report-pdf").content

        if charts.japanese_font() == charts.IPAEX_GOTHIC:
            self.assertIn(b"FontFile2", content)  # an embedded TrueType subset
        self.assertIn(charts.japanese_font().encode(), content)


class WardScopingTests(ExportTestCase):
    def test_an_auditor_may_export(self):
        self.assertEqual(self.fetch("export-csv", self.bob).status_code, 200)

    def test_charlie_exports_his_own_ward_only(self):
        for name in ("export-xlsx", "export-csv", "report-pdf"):
            with self.subTest(name=name):
                response = self.fetch(name, self.charlie)
                self.assertEqual(response.status_code, 200)
                content = response.content
                text = pdf_text(content) if name == "report-pdf" else content.decode("utf-8-sig", errors="ignore")
                if name == "export-xlsx":
                    text = " ".join(str(value) for value in sheet_values(load_workbook(io.BytesIO(content))))
                self.assertIn("企画部", text)  # ward B's own department
                for marker in ("A区", "総務部", "税務課", INJECTED):
                    self.assertNotIn(marker, text)

    def test_charlie_gets_404_for_a_department_of_ward_a(self):
        for name in ("export-xlsx", "export-csv", "report-pdf"):
            with self.subTest(name=name):
                response = self.fetch(name, self.charlie, department=self.tax.public_id)
                self.assertEqual(response.status_code, 404)

    def test_a_department_manager_exports_their_own_subtree_only(self):
        response = self.fetch("export-csv", self.manager)

        self.assertEqual(response.status_code, 200)
        table = csv_table(response.content, "utf-8-sig")
        sections = {row[1] for row in table[1:]}
        self.assertNotIn("部署対抗", sections)
        self.assertNotIn("役職別", sections)
        text = response.content.decode("utf-8-sig")
        self.assertIn("税務課", text)
        self.assertNotIn("総務部", text)
        self.assertNotIn(INJECTED, text)

    def test_a_department_manager_cannot_export_another_department(self):
        response = self.fetch("export-xlsx", self.manager, department=self.general_affairs.public_id)

        self.assertEqual(response.status_code, 404)

    def test_a_department_below_the_minimum_size_is_withheld(self):
        response = self.fetch("export-csv", self.small_manager)

        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("metrics:department"), response["Location"])

    def test_ward_exports_need_a_role(self):
        joint_only = make_user("jo", organization=self.ward_a, role=Membership.Role.JOINT_ADMIN)
        self.assertEqual(self.fetch("export-csv", joint_only).status_code, 403)


class JointExportTests(ExportTestCase):
    def joint(self, name: str, **query):
        self.login(self.joanna)
        self.client.post(reverse("core:switch-organization"), {"organization": "joint-csirt"})
        return self.client.get(reverse(f"metrics:{name}"), {"fy": 2026, **query})

    def assertNoOtherWard(self, text: str) -> None:
        for marker in (
            "B区",
            SECRET_WARD,
            "ward-b",
            "himitsu",
            B_CAMPAIGN_TITLE,
            str(self.ward_b.public_id),
            str(self.secret.public_id),
            "企画課",
        ):
            self.assertNotIn(marker, text)

    def test_xlsx_names_only_the_viewer_s_ward(self):
        response = self.joint("joint-xlsx")

        self.assertEqual(response.status_code, 200)
        workbook = load_workbook(io.BytesIO(response.content))
        comparison = workbook["区別比較"]
        labels = [row[0] for row in comparison.iter_rows(min_row=2, values_only=True)]
        self.assertIn("A区（自区）", labels)
        self.assertEqual(len([label for label in labels if label.startswith("区") and len(label) == 2]), 2)
        self.assertTrue(labels[-1].startswith("平均"))
        self.assertNoOtherWard(" ".join(str(value) for value in sheet_values(workbook)))
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            self.assertNoOtherWard(" ".join(archive.read(name).decode(errors="ignore") for name in archive.namelist()))

    def test_csv_in_both_encodings_names_only_the_viewer_s_ward(self):
        for encoding, codec in (("utf-8", "utf-8-sig"), ("cp932", "cp932")):
            with self.subTest(encoding=encoding):
                response = self.joint("joint-csv", encoding=encoding)
                self.assertEqual(response.status_code, 200)
                text = response.content.decode(codec)
                self.assertIn("A区（自区）", text)
                self.assertNoOtherWard(text)

    def test_pdf_names_only_the_viewer_s_ward(self):
        response = self.joint("joint-pdf")

        self.assertEqual(response.status_code, 200)
        text = pdf_text(response.content)
        self.assertIn("区別の比較", text)
        self.assertIn("A区（自区）", text)
        self.assertNoOtherWard(text)

    def test_only_a_joint_admin_may_export_it(self):
        for user in (self.alice, self.bob, self.charlie, self.manager):
            with self.subTest(user=user.username):
                self.assertEqual(self.fetch("joint-csv", user).status_code, 403)


class NeutraliseTests(BaseTestCase):
    def test_every_formula_start_is_prefixed_and_plain_text_is_not(self):
        for start in ("=", "+", "-", "@", "\t", "\r"):
            self.assertEqual(exports.neutralise(f"{start}SUM(A1)"), f"'{start}SUM(A1)")
        self.assertEqual(exports.neutralise("総務部"), "総務部")
        self.assertEqual(exports.neutralise(-3), -3)
        self.assertIsNone(exports.neutralise(None))
