"""The KPI exports: XLSX (a sheet per section, native Excel charts), CSV (UTF-8 with BOM or CP932) and a PDF report.

Everything is built from what ``mamori.metrics.kpis`` returns, the same figures the pages show, so an export
never says something the dashboard does not. The files leave mamori and are opened in Excel, so:

- every text cell that a spreadsheet would run as a formula (starting with = + - @ tab or CR) is prefixed
  with an apostrophe (``neutralise``), in the XLSX and in the CSV alike;
- CP932 (Excel's Japanese encoding) cannot hold every character: the usual look-alikes are mapped to the
  CP932 ones (wave dash, minus sign, ✕ …) and anything left is replaced by 「?」, never an exception;
- the joint exports carry the labels of ``kpis.joint_view`` only (区A, 区B …, the viewer's own ward by name):
  no campaign title, code or identifier of another ward is written.

The PDF is a report for a council or a 特別区長会 meeting: a title page, the KPIs against their targets with
the traffic light in words, the trend charts (the very ``charts.py`` Drawings the pages show as SVG), the
department ranking (small departments merged, no individuals) and the definitions. Japanese text uses the
font ``charts.japanese_font()`` registers: IPAex Gothic embedded when fonts-ipaexfont-gothic is installed,
else reportlab's built-in CID font HeiseiKakuGo-W5.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mamori.core.roster.validation import FORMULA_STARTS
from mamori.drills.fiscal import fiscal_year_label, round_label
from mamori.metrics import charts, kpis

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv"
PDF_CONTENT_TYPE = "application/pdf"
CSV_ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}
# Characters outside JIS X 0208 (Python's cp932 codec refuses them, IPAex Gothic has no glyph for some) and
# the look-alike Excel users and the printed report expect.
JIS_LOOKALIKES = str.maketrans(
    {
        "\u301c": "\uff5e",  # 〜 wave dash → ～
        "\u2016": "\u2225",  # ‖ → ∥
        "\u2212": "\uff0d",  # − minus sign → －
        "\u00a2": "\uffe0",  # ¢
        "\u00a3": "\uffe1",  # £
        "\u00ac": "\uffe2",  # ¬
        "\u2014": "\u2015",  # — em dash → ―
        "\u2715": "\u00d7",  # ✕ (the 「目標未達」 symbol) → ×
        "\u203a": "\uff1e",  # › (between department levels) → ＞
    }
)
UNIT_LABELS = {kpis.PERCENT: "%", kpis.MINUTES: "分", kpis.RATIO: "", kpis.COUNT: ""}
EXCEL_FORMATS = {kpis.PERCENT: "0.0%", kpis.MINUTES: "0.0", kpis.RATIO: "0.00", kpis.COUNT: "General"}
HEADLINE_TREND_KPIS = ("report_rate_1h", "failure_rate")
JOINT_CHART_KPIS = ("report_rate_1h", "failure_rate")
JOINT_PDF_KPIS = ("report_rate_1h", "median_minutes", "failure_rate", "drills_per_person", "participation")
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")


def neutralise(value):
    """A text cell that spreadsheet software would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def local_time(moment: datetime.datetime | None) -> str:
    if moment is None:
        return _("未集計")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def stale_minutes(stale_seconds: int) -> int:
    """The promise 「最大N分遅れ」, rounded up so that it is never understated."""
    return max(1, -(-stale_seconds // 60))


# --- what an export holds -----------------------------------------------------------------------------


@dataclass
class Section:
    """One part of an export: a sheet in the XLSX, a block of rows in the CSV, a table in the PDF.

    ``rows`` hold plain values and ``kpis.Figure`` objects (a KPI's value with its counts and status);
    ``label_indexes`` are the columns that name the row (the CSV's 対象; none: the whole scope).
    ``chart_kpis`` are the KPI columns drawn as a native Excel chart (a line over rounds, or bars).
    """

    title: str
    headers: list[str]
    rows: list[list]
    label_indexes: tuple[int, ...] = (0,)
    size_column: int | None = None
    chart: str = ""  # "line" | "bar" | ""
    chart_kpis: tuple[str, ...] = ()


@dataclass
class Export:
    """A whole export: what it is about (the summary lines) and its sections, in order."""

    title: str
    fiscal_year: int
    summary: list[tuple[str, str]]
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    file_stem: str = "metrics"


def figure_columns(figure_sets: Iterable[dict[str, kpis.Figure]]) -> list[kpis.Kpi]:
    """The KPIs any of the rows carries, in the order of ``kpis.KPIS``."""
    present = set()
    for figures in figure_sets:
        present.update(figures)
    return [kpi for key, kpi in kpis.KPIS.items() if key in present]


def figure_cells(figures: dict[str, kpis.Figure], columns: list[kpis.Kpi]) -> list[kpis.Figure]:
    return [figures.get(kpi.key) or kpis.Figure(kpi=kpi, value=None) for kpi in columns]


def status_text(figure: kpis.Figure) -> str:
    return f"{figure.status_symbol} {figure.status_label}"


def kpi_section(figures: dict[str, kpis.Figure], title: str) -> Section:
    """Every KPI of the scope: value, counts, target and the traffic light in words."""
    rows = []
    for kpi in kpis.KPIS.values():
        figure = figures.get(kpi.key) or kpis.Figure(kpi=kpi, value=None)
        rows.append(
            [str(kpi.label), figure, figure.numerator, figure.denominator, kpi.target_label, status_text(figure)]
        )
    return Section(
        title=title,
        headers=[_("指標"), _("値"), _("分子"), _("分母"), _("目標"), _("判定")],
        rows=rows,
        label_indexes=(),
    )


def definitions_section() -> Section:
    return Section(
        title=_("定義"),
        headers=[_("指標"), _("計算式"), _("目標"), _("元になる記録")],
        rows=[[str(kpi.label), str(kpi.formula), kpi.target_label, str(kpi.source)] for kpi in kpis.KPIS.values()],
    )


def common_notes(stale_seconds: int) -> list[str]:
    return [
        _("「1時間以内」は配信から報告までが3,600秒ちょうどまでを含みます。"),
        _("クリック等の率は人の操作だけを数えます。メールの検査装置などの自動アクセスは除き、件数を別に示します。"),
        _("%(size)s人未満の所属は上位の所属（または「その他（少人数の所属）」）にまとめています。個人は示しません。")
        % {"size": settings.METRICS_MIN_GROUP_SIZE},
        _("数値は集計表から作成しており、最大%(minutes)s分遅れることがあります。")
        % {"minutes": stale_minutes(stale_seconds)},
    ]


def round_rows(points: Sequence[kpis.RoundPoint], columns: list[kpis.Kpi], *, joint: bool = False) -> list[list]:
    """A trend's rows. In a joint export the label is rebuilt from the year and round (no campaign title)."""
    rows = []
    for point in points:
        if joint and point.round_number is not None:
            label = round_label(point.fiscal_year, point.round_number)
        else:
            label = point.label
        rows.append(
            [label, point.starts_on, point.difficulty_label, point.delivered, *figure_cells(point.figures, columns)]
        )
    return rows


def trend_section(points: Sequence[kpis.RoundPoint], title: str, first_header: str) -> Section:
    columns = figure_columns(point.figures for point in points)
    return Section(
        title=title,
        headers=[first_header, _("開始日"), _("難易度"), _("配信数"), *[str(kpi.label) for kpi in columns]],
        rows=round_rows(points, columns),
        size_column=3,
        chart="line",
        chart_kpis=HEADLINE_TREND_KPIS,
    )


def breakdown_section(rows: Sequence[kpis.BreakdownRow], title: str, *, tree: bool = False) -> Section:
    columns = figure_columns(row.figures for row in rows)
    merged = _("少人数の所属を含む")
    body = [
        [
            ("\u3000" * row.depth if tree else "") + row.label,
            row.size,
            merged if row.merged else "",
            *figure_cells(row.figures, columns),
        ]
        for row in rows
    ]
    return Section(
        title=title,
        headers=[_("区分"), _("人数"), _("備考"), *[str(kpi.label) for kpi in columns]],
        rows=body,
        size_column=1,
    )


def ranking_section(rows: Sequence[kpis.RankRow]) -> Section:
    columns = figure_columns(row.figures for row in rows)
    merged = _("少人数の所属を含む")
    return Section(
        title=_("部署対抗"),
        headers=[_("順位"), _("所属"), _("人数"), _("備考"), *[str(kpi.label) for kpi in columns]],
        rows=[
            [row.rank, row.label, row.size, merged if row.merged else "", *figure_cells(row.figures, columns)]
            for row in rows
        ],
        label_indexes=(1,),
        size_column=2,
        chart="bar",
        chart_kpis=("report_rate_1h",),
    )


def ward_export(organization, dashboard: kpis.Dashboard, ranking: list[kpis.RankRow] | None, department=None) -> Export:
    """The ward's (or one department sub-tree's) figures for the fiscal year, as sections."""
    scope = str(department) if department is not None else organization.name
    summary = [
        (_("組織"), organization.name),
        (_("年度"), fiscal_year_label(dashboard.fiscal_year)),
        (_("集計日時"), local_time(dashboard.computed_at)),
        (_("集計の遅れ"), _("最大%(minutes)s分") % {"minutes": stale_minutes(dashboard.stale_seconds)}),
        (_("作成日時"), local_time(timezone.now())),
    ]
    if department is not None:
        summary.insert(1, (_("所属"), scope))
    sections = [
        kpi_section(dashboard.figures, _("指標")),
        trend_section(dashboard.rounds, _("実施回の推移"), _("実施回")),
        trend_section(dashboard.quarters, _("四半期の推移"), _("四半期")),
        breakdown_section(dashboard.departments, _("所属別"), tree=True),
    ]
    if department is None:
        sections += [
            breakdown_section(dashboard.positions, _("役職別")),
            breakdown_section(dashboard.employment_types, _("雇用区分別")),
        ]
    if ranking is not None:
        sections.append(ranking_section(ranking))
    sections.append(definitions_section())
    return Export(
        title=_("標的型攻撃メール訓練 指標報告"),
        fiscal_year=dashboard.fiscal_year,
        summary=summary,
        sections=sections,
        notes=common_notes(dashboard.stale_seconds),
        file_stem=f"metrics-{organization.code}-{dashboard.fiscal_year}",
    )


def joint_label(row: kpis.JointRow) -> str:
    return _("%(ward)s（自区）") % {"ward": row.label} if row.is_own else row.label


def average_label(view: kpis.JointView) -> str:
    """The pages' own wording: 「平均（データのある 3 区）」."""
    return ngettext("平均（データのある %(wards)s 区）", "平均（データのある %(wards)s 区）", view.wards_with_data) % {
        "wards": view.wards_with_data
    }


def joint_export(view: kpis.JointView) -> Export:
    """All wards side by side under their anonymous labels, the average, and each ward's rounds."""
    columns = figure_columns([*(row.figures for row in view.rows), view.average])
    comparison = Section(
        title=_("区別比較"),
        headers=[_("区"), _("人数"), *[str(kpi.label) for kpi in columns]],
        rows=[[joint_label(row), row.size, *figure_cells(row.figures, columns)] for row in view.rows]
        + [[average_label(view), None, *figure_cells(view.average, columns)]],
        size_column=1,
        chart="bar",
        chart_kpis=JOINT_CHART_KPIS,
    )
    round_columns = figure_columns(point.figures for row in view.rows for point in row.rounds)
    trends = Section(
        title=_("実施回の推移"),
        headers=[
            _("区"),
            _("実施回"),
            _("開始日"),
            _("難易度"),
            _("配信数"),
            *[str(kpi.label) for kpi in round_columns],
        ],
        rows=[
            [joint_label(row), *cells]
            for row in view.rows
            for cells in round_rows(row.rounds, round_columns, joint=True)
        ],
        label_indexes=(0, 1),
        size_column=4,
    )
    notes = [
        _("自区以外の区は「区A」「区B」…の記号で示しています。記号の並びは年度ごとに変わり、区名とは関係ありません。"),
        _("平均は、その年度にデータのある区の単純平均です。"),
        *common_notes(view.stale_seconds),
    ]
    return Export(
        title=_("特別区 共同利用プラットフォーム 訓練指標（区別比較）"),
        fiscal_year=view.fiscal_year,
        summary=[
            (_("年度"), fiscal_year_label(view.fiscal_year)),
            (_("データのある区"), str(view.wards_with_data)),
            (_("集計日時"), local_time(view.computed_at)),
            (_("集計の遅れ"), _("最大%(minutes)s分") % {"minutes": stale_minutes(view.stale_seconds)}),
            (_("作成日時"), local_time(timezone.now())),
        ],
        sections=[comparison, trends, definitions_section()],
        notes=notes,
        file_stem=f"metrics-joint-{view.fiscal_year}",
    )


# --- XLSX ---------------------------------------------------------------------------------------------


def sheet_title(title: str, used: set[str]) -> str:
    """Excel's sheet name rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    cleaned = "".join("_" if character in "[]:*?/\\" else character for character in title)[:31] or "Sheet"
    name, number = cleaned, 2
    while name in used:
        name = f"{cleaned[:28]}({number})"
        number += 1
    used.add(name)
    return name


def excel_value(value):
    """A cell's value: a figure's number (a percentage as a fraction, for Excel's % format), text neutralised."""
    if isinstance(value, kpis.Figure):
        if value.value is None:
            return None
        return value.value / 100 if value.kpi.unit == kpis.PERCENT else value.value
    return neutralise(value)


def write_sheet(sheet, section: Section) -> None:
    sheet.append([neutralise(header) for header in section.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in section.rows:
        sheet.append([excel_value(value) for value in row])
    for column_index, header in enumerate(section.headers, start=1):
        sample = [row[column_index - 1] for row in section.rows]
        figure = next((value for value in sample if isinstance(value, kpis.Figure)), None)
        letter = get_column_letter(column_index)
        if figure is not None:
            for cell in sheet[letter][1:]:
                cell.number_format = EXCEL_FORMATS[figure.kpi.unit]
        elif any(isinstance(value, datetime.date) for value in sample):
            for cell in sheet[letter][1:]:
                cell.number_format = "yyyy-mm-dd"
        widest = max([len(str(header)), *(len(str(excel_value(value) or "")) for value in sample)])
        sheet.column_dimensions[letter].width = min(60, max(8, widest * 1.8 if column_index == 1 else 12))
    sheet.freeze_panes = "B2"
    add_native_chart(sheet, section)


def add_native_chart(sheet, section: Section) -> None:
    """A native Excel chart over the section's KPI columns: lines over the rounds, or bars per row."""
    if not section.chart or not section.rows:
        return
    keys = [str(kpis.KPIS[key].label) for key in section.chart_kpis if key in kpis.KPIS]
    columns = [index + 1 for index, header in enumerate(section.headers) if header in keys]
    if not columns:
        return
    last_row = len(section.rows) + 1
    chart = LineChart() if section.chart == "line" else BarChart()
    if section.chart == "bar":
        chart.type = "bar"
    chart.title = section.title
    chart.height, chart.width = 8, 18
    for column in columns:
        chart.add_data(Reference(sheet, min_col=column, min_row=1, max_row=last_row), titles_from_data=True)
    label_column = section.label_indexes[-1] + 1 if section.label_indexes else 1
    chart.set_categories(Reference(sheet, min_col=label_column, min_row=2, max_row=last_row))
    chart.y_axis.number_format = "0%"
    sheet.add_chart(chart, f"{get_column_letter(len(section.headers) + 2)}2")


def to_xlsx(export: Export) -> bytes:
    """A summary sheet (title, scope, freshness, notes), then a sheet per section with its native chart."""
    workbook = Workbook()
    summary = workbook.active
    used = {_("概要")}
    summary.title = _("概要")
    summary.append([neutralise(export.title)])
    summary["A1"].font = Font(bold=True, size=14)
    for name, value in export.summary:
        summary.append([neutralise(name), neutralise(value)])
    summary.append([])
    for note in export.notes:
        summary.append([neutralise(note)])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 40
    for section in export.sections:
        write_sheet(workbook.create_sheet(sheet_title(section.title, used)), section)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV ----------------------------------------------------------------------------------------------


def csv_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def csv_rows(export: Export) -> list[list[str]]:
    """The export as one long table: a row per (section, row, KPI), Excel- and pivot-friendly."""
    rows = [
        [
            _("年度"),
            _("区分"),
            _("対象"),
            _("人数・配信数"),
            _("指標"),
            _("値"),
            _("単位"),
            _("分子"),
            _("分母"),
            _("目標"),
            _("判定"),
        ]
    ]
    year = fiscal_year_label(export.fiscal_year)
    for section in export.sections:
        for row in section.rows:
            figures = [value for value in row if isinstance(value, kpis.Figure)]
            if not figures:
                continue
            names = [str(row[index]).strip() for index in section.label_indexes if row[index] not in (None, "")]
            target = " ".join(names) or _("全体")
            size = row[section.size_column] if section.size_column is not None else None
            for figure in figures:
                rows.append(
                    [
                        year,
                        section.title,
                        target,
                        csv_number(size),
                        str(figure.kpi.label),
                        csv_number(figure.value),
                        UNIT_LABELS[figure.kpi.unit],
                        csv_number(figure.numerator),
                        csv_number(figure.denominator),
                        figure.kpi.target_label,
                        status_text(figure),
                    ]
                )
    return [[neutralise(cell) for cell in row] for row in rows]


def to_csv(export: Export, encoding: str = "utf-8") -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8) or CP932; CP932 replaces what it cannot hold with 「?」."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(export))
    text = buffer.getvalue()
    if CSV_ENCODINGS[encoding] == "cp932":
        return text.translate(JIS_LOOKALIKES).encode("cp932", errors="replace")
    return text.encode("utf-8-sig")


# --- PDF ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfStyles:
    """Paragraph styles in the Japanese font; CJK wrapping breaks lines between any two characters."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    small: ParagraphStyle

    @classmethod
    def make(cls) -> "PdfStyles":
        font = charts.japanese_font()

        def style(name: str, size: float, **extra) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **extra)

        return cls(
            title=style("title", 22, alignment=TA_CENTER, spaceAfter=12 * mm),
            subtitle=style("subtitle", 13, alignment=TA_CENTER, spaceAfter=4 * mm),
            heading=style("heading", 13, spaceBefore=6 * mm, spaceAfter=3 * mm),
            body=style("body", 9.5, spaceAfter=2 * mm),
            cell=style("cell", 8),
            small=style("small", 7.5, textColor=colors.HexColor("#57606a")),
        )


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text).translate(JIS_LOOKALIKES)), style)


def pdf_cell(value, styles: PdfStyles):
    if isinstance(value, Paragraph):
        return value
    if isinstance(value, kpis.Figure):
        return paragraph(value.display, styles.cell)
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    return paragraph(value, styles.cell)


def pdf_table(headers: Sequence[str], rows: Sequence[Sequence], styles: PdfStyles, widths=None) -> Table:
    data = [[paragraph(header, styles.cell) for header in headers]]
    data += [[pdf_cell(value, styles) for value in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), charts.japanese_font()),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f3")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def kpi_table(figures: dict[str, kpis.Figure], styles: PdfStyles) -> Table:
    """Each KPI: value, counts, target and the traffic light in colour AND words (never colour alone)."""
    rows = []
    for kpi in kpis.KPIS.values():
        figure = figures.get(kpi.key) or kpis.Figure(kpi=kpi, value=None)
        counts = ""
        if figure.numerator is not None and figure.denominator is not None:
            counts = f"{figure.numerator:,} / {figure.denominator:,}"
        status = ParagraphStyle(
            f"status-{figure.status}", parent=styles.cell, textColor=charts.STATUS_COLOURS[figure.status]
        )
        rows.append([str(kpi.label), figure, counts, kpi.target_label, paragraph(status_text(figure), status)])
    return pdf_table(
        [_("指標"), _("値"), _("件数（分子 / 分母）"), _("目標"), _("判定")],
        rows,
        styles,
        widths=[62 * mm, 20 * mm, 28 * mm, 22 * mm, 42 * mm],
    )


def title_page(export: Export, styles: PdfStyles, lines: Sequence[str]) -> list:
    story = [Spacer(1, 55 * mm), paragraph(export.title, styles.title)]
    story += [paragraph(line, styles.subtitle) for line in lines]
    story.append(Spacer(1, 20 * mm))
    story += [paragraph(f"{name}：{value}", styles.body) for name, value in export.summary]
    story.append(PageBreak())
    return story


def short_label(point: kpis.RoundPoint) -> str:
    """「第2回」 on a chart's axis; the table beside it gives the full label."""
    if point.round_number is not None:
        return _("第%(round)s回") % {"round": point.round_number}
    return point.label


def trend_charts(points: Sequence[kpis.RoundPoint], *, joint: bool = False) -> list:
    """The headline KPIs' trend over the rounds, as the same Drawings the dashboard shows."""
    drawings = []
    for kpi in kpis.KPIS.values():
        if not kpi.headline:
            continue
        values = [(short_label(point), point.figures[kpi.key].value) for point in points if kpi.key in point.figures]
        if any(value is not None for _label, value in values):
            title = str(kpi.label)
            drawings.append(charts.trend_chart(values, unit=kpi.unit, target=kpi.target, title=title, width=230))
    # Two charts a row keeps a page for four headline KPIs.
    pairs = [drawings[index : index + 2] for index in range(0, len(drawings), 2)]
    return [Table([pair], hAlign="LEFT") for pair in pairs]


def notes_block(export: Export, styles: PdfStyles) -> list:
    story = [paragraph(_("定義と注記"), styles.heading)]
    story += [paragraph(f"・{note}", styles.body) for note in export.notes]
    for kpi in kpis.KPIS.values():
        target = f"（{_('目標')} {kpi.target_label}）" if kpi.target_label else ""
        story.append(paragraph(f"{kpi.label}{target}：{kpi.formula}", styles.small))
    return story


def build_pdf(story: list, title: str) -> bytes:
    buffer = io.BytesIO()
    font = charts.japanese_font()

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{title} — {document.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="mamori",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def ward_pdf(export: Export, dashboard: kpis.Dashboard, ranking: list[kpis.RankRow] | None, scope: str) -> bytes:
    """The council report of one ward (or department): title page, KPIs, trends, ranking, definitions."""
    styles = PdfStyles.make()
    story = title_page(export, styles, [scope, fiscal_year_label(dashboard.fiscal_year)])
    story.append(paragraph(_("指標と目標"), styles.heading))
    story.append(kpi_table(dashboard.figures, styles))
    if dashboard.rounds:
        story.append(paragraph(_("実施回ごとの推移"), styles.heading))
        story += trend_charts(dashboard.rounds)
        keys = [key for key in ("report_rate_1h", "median_minutes", "failure_rate") if key in kpis.KPIS]
        story.append(Spacer(1, 3 * mm))
        story.append(compact_trend_table(dashboard.rounds, keys, styles))
    if ranking:
        story.append(PageBreak())
        story.append(paragraph(_("部署対抗（1時間以内の報告率・報告までの時間、次にクリック率）"), styles.heading))
        story.append(ranking_table(ranking, styles))
        story.append(
            paragraph(
                _("%(size)s人未満の所属は上位の所属にまとめています。個人名は示しません。")
                % {"size": settings.METRICS_MIN_GROUP_SIZE},
                styles.small,
            )
        )
    story.append(KeepTogether(notes_block(export, styles)))
    return build_pdf(story, export.title)


def compact_trend_table(points: Sequence[kpis.RoundPoint], keys: Sequence[str], styles: PdfStyles) -> Table:
    columns = [kpis.KPIS[key] for key in keys]
    rows = [
        [point.label, point.difficulty_label, point.delivered, *figure_cells(point.figures, columns)]
        for point in points
    ]
    return pdf_table([_("実施回"), _("難易度"), _("配信数"), *[str(kpi.label) for kpi in columns]], rows, styles)


def ranking_table(ranking: Sequence[kpis.RankRow], styles: PdfStyles) -> Table:
    keys = [key for key in ("report_rate_1h", "median_minutes", "failure_rate", "click_rate") if key in kpis.KPIS]
    columns = [kpis.KPIS[key] for key in keys]
    rows = [[row.rank, row.label, row.size, *figure_cells(row.figures, columns)] for row in ranking]
    return pdf_table(
        [_("順位"), _("所属"), _("人数"), *[str(kpi.label) for kpi in columns]],
        rows,
        styles,
        widths=[10 * mm, 52 * mm, 14 * mm, *[24 * mm for _kpi in columns]],
    )


def joint_table(view: kpis.JointView, styles: PdfStyles) -> Table:
    """The wards and their average over the few KPIs a printed page holds."""
    columns = [kpis.KPIS[key] for key in JOINT_PDF_KPIS if key in kpis.KPIS]
    rows = [[joint_label(row), row.size, *figure_cells(row.figures, columns)] for row in view.rows]
    rows.append([average_label(view), None, *figure_cells(view.average, columns)])
    return pdf_table(
        [_("区"), _("人数"), *[str(kpi.label) for kpi in columns]],
        rows,
        styles,
        widths=[38 * mm, 16 * mm, *[24 * mm for _kpi in columns]],
    )


def joint_pdf(export: Export, view: kpis.JointView) -> bytes:
    """The joint report: every ward under its label, the average, comparison charts and the definitions."""
    styles = PdfStyles.make()
    story = title_page(export, styles, [fiscal_year_label(view.fiscal_year)])
    story.append(paragraph(_("区別の比較"), styles.heading))
    story.append(joint_table(view, styles))
    for key in JOINT_CHART_KPIS:
        if key not in kpis.KPIS:
            continue
        kpi = kpis.KPIS[key]
        rows = [(joint_label(row), row.figures[key].value if key in row.figures else None) for row in view.rows]
        average = view.average[key].value if key in view.average else None
        story.append(Spacer(1, 4 * mm))
        story.append(
            charts.comparison_chart(
                rows,
                unit=kpi.unit,
                title=str(kpi.label),
                target=kpi.target,
                average=average,
                highlighted=frozenset(joint_label(row) for row in view.rows if row.is_own),
                width=470,
            )
        )
    story.append(KeepTogether(notes_block(export, styles)))
    return build_pdf(story, export.title)
