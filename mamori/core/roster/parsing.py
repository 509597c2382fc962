"""Reading a roster file (CSV in UTF-8 or CP932, or XLSX) into numbered rows of text cells.

Everything that makes the file unreadable as a whole raises ``RosterFileError`` with a Japanese message
that says what to do; row-level problems are left to ``validation``.
"""

import codecs
import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

import python_calamine
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container
# An XLSX is a zip; refuse one that inflates past this (a "zip bomb" would exhaust memory).
XLSX_MAX_INFLATED_BYTES = 400 * 1024 * 1024


class RosterFileError(Exception):
    """The file cannot be read as a roster at all; the message (Japanese) says why and what to do."""


@dataclass
class RosterTable:
    """The header and data rows of a roster, numbered as the spreadsheet shows them (header = 1)."""

    file_format: str  # "csv" or "xlsx"
    encoding: str  # "utf-8-sig", "utf-8", "cp932" or "" for XLSX
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str]]]

    @property
    def format_label(self) -> str:
        return {
            "utf-8-sig": _("CSV（UTF-8・BOM 付き）"),
            "utf-8": _("CSV（UTF-8）"),
            "cp932": _("CSV（Shift_JIS / CP932）"),
        }.get(self.encoding, _("Excel（XLSX）"))


def ensure_size_allowed(size: int) -> None:
    """Refuse files over UPLOAD_MAX_BYTES; callers check this before reading the content."""
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise RosterFileError(
            _(
                "ファイルが大きすぎます（%(size)s）。取り込めるのは %(limit)s までです。"
                "名簿に不要な列があれば削除して保存し直してください（名簿を分割すると、載っていない職員が無効になります）。"
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def read_roster_file(content: bytes) -> RosterTable:
    """Detect the format from the content (not the file name) and read the rows."""
    ensure_size_allowed(len(content))
    if not content.strip():
        raise RosterFileError(
            _("ファイルが空です。見出し行（氏名・メール・職員番号…）と職員の行がある名簿を選んでください。")
        )
    if content.startswith(XLSX_MAGIC):
        return _read_xlsx(content)
    if content.startswith(OLE2_MAGIC):
        raise RosterFileError(
            _("古い Excel 形式（.xls）には対応していません。Excel で「.xlsx」または「CSV」として保存し直してください。")
        )
    return _read_csv(_decode(content))


def _decode(content: bytes) -> tuple[str, str]:
    """Strict detection: UTF-8 (with or without BOM) first, then CP932; nothing is guessed beyond that."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in content:
        raise RosterFileError(
            _(
                "CSV ではないか、UTF-16 で保存されたファイルです。"
                "Excel で「CSV UTF-8（コンマ区切り）」として保存し直してください。"
            )
        )
    try:
        encoding = "utf-8-sig" if content.startswith(codecs.BOM_UTF8) else "utf-8"
        return content.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            _(
                "文字コードを判別できません（%(position)s バイト目）。"
                "UTF-8 または Shift_JIS（CP932）の CSV、もしくは XLSX で保存し直してください。"
            )
            % {"position": exc.start + 1}
        ) from None


def _read_csv(decoded: tuple[str, str]) -> RosterTable:
    text, encoding = decoded
    if any(ch in text for ch in "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
        raise RosterFileError(_("CSV として読めない制御文字が含まれています。CSV または XLSX の名簿を選んでください。"))
    reader = csv.reader(io.StringIO(text, newline=""), _dialect_of(text))
    try:
        # Rows are numbered per record, as Excel numbers them (a quoted line break stays in its row).
        records = [(number, row) for number, row in enumerate(reader, start=1)]
    except csv.Error:
        raise RosterFileError(
            _(
                "CSV の形式が正しくありません（%(line)s 行目付近）。"
                '引用符（"）の閉じ忘れや、極端に長い値がないか確認してください。'
            )
            % {"line": reader.line_num}
        ) from None
    return _table("csv", encoding, records)


class _StrictExcel(csv.excel):
    # A stray quote fails loudly instead of swallowing the rest of the file into one cell.
    strict = True


class _StrictExcelTab(_StrictExcel):
    delimiter = "\t"


def _dialect_of(text: str) -> type[csv.Dialect]:
    """Comma by default; tab-separated exports (「テキスト（タブ区切り）」) are recognised by their header."""
    header_line = text.split("\n", 1)[0]
    return _StrictExcelTab if "\t" in header_line and "," not in header_line else _StrictExcel


def _read_xlsx(content: bytes) -> RosterTable:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise RosterFileError(
            _("XLSX ファイルが壊れているため読み取れません。Excel で開いて保存し直してください。")
        ) from None
    if inflated > XLSX_MAX_INFLATED_BYTES:
        raise RosterFileError(
            _("XLSX の展開後のサイズが大きすぎます。不要なシートや列を削除してから保存し直してください。")
        )
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = workbook.get_sheet_by_name(_first_visible_sheet(workbook))
        # skip_empty_area=False keeps row numbers as Excel shows them, even after empty top rows.
        cells = sheet.to_python(skip_empty_area=False)
    except python_calamine.PasswordError:
        raise RosterFileError(
            _("パスワード付きの XLSX は読み取れません。パスワードを解除して保存し直してください。")
        ) from None
    except (python_calamine.CalamineError, python_calamine.ZipError, python_calamine.XmlError, ValueError):
        raise RosterFileError(
            _("XLSX として読み取れません。Excel の名簿ファイル（.xlsx）か CSV を選んでください。")
        ) from None
    records = [(number, [_cell_text(value) for value in row]) for number, row in enumerate(cells, start=1)]
    return _table("xlsx", "", records)


def _first_visible_sheet(workbook: python_calamine.CalamineWorkbook) -> str:
    for sheet in workbook.sheets_metadata:
        if (
            sheet.visible == python_calamine.SheetVisibleEnum.Visible
            and sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
        ):
            return sheet.name
    raise RosterFileError(_("XLSX に表示中のワークシートがありません。"))


def _cell_text(value: object) -> str:
    """A spreadsheet cell as text: 1234.0 → 「1234」, dates as YYYY-MM-DD."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _table(file_format: str, encoding: str, records: list[tuple[int, list[str]]]) -> RosterTable:
    """Split off the header: the first row with any content (blank rows above it are tolerated)."""
    non_blank = [(number, row) for number, row in records if any(cell.strip() for cell in row)]
    if not non_blank:
        raise RosterFileError(_("ファイルに内容がありません。見出し行と職員の行がある名簿を選んでください。"))
    (header_row, header), *rows = non_blank
    return RosterTable(file_format=file_format, encoding=encoding, header_row=header_row, header=header, rows=rows)
