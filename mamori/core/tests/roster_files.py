"""Roster files for the roster import tests: CSV in any encoding, XLSX, built from plain rows."""

import csv
import io

import openpyxl

HEADER = ["職員番号", "氏名", "かな", "メール", "所属", "役職", "雇用区分", "上長"]


def staff(number, name, email, department="", position="", employment="正規", manager="", kana="") -> list[str]:
    """One row in HEADER order."""
    return [number, name, kana, email, department, position, employment, manager]


# A small ward A roster: 課長 ← 係長 ← 主事 (the 主事 comes first: managers may appear later in the file).
WARD_A_ROSTER = [
    staff("A003", "高橋 三郎", "takahashi@city-a.lg.jp", "区民部/税務課/課税係", "主事", "会計年度任用職員", "A002"),
    staff("A001", "佐藤 一郎", "sato@city-a.lg.jp", "区民部/税務課", "課長", kana="さとう いちろう"),
    staff(
        "A002", "鈴木 次郎", "suzuki@city-a.lg.jp", "区民部／税務課＞課税係", "係長", "正規職員", "sato@city-a.lg.jp"
    ),
]


def csv_bytes(rows, header=HEADER, *, encoding="utf-8-sig", delimiter=",") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER, *, blank_rows_above: int = 0) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for _ in range(blank_rows_above):
        sheet.append([])
    for values in [header, *rows]:
        sheet.append(values)
    # openpyxl would store 「=…」 as a formula; a roster cell holding that text is a string.
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
