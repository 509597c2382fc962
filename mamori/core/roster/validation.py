"""Checking every row of a roster before anything is written.

The result is either a complete list of ``RosterEntry`` (normalised, managers resolved to employee
numbers) or a list of errors — ``{"row": 12, "column": "メール", "message": "…"}`` in Japanese, rows
numbered as the spreadsheet shows them. A roster with any error is never applied.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils.translation import gettext as _

from mamori.core.models import Person
from mamori.core.models.people import PATH_SEPARATOR
from mamori.core.roster.columns import (
    COLUMNS,
    COLUMNS_BY_FIELD,
    EMPLOYMENT_TYPE_HINT,
    REQUIRED_FIELDS,
    column_for_header,
    department_path,
    employment_type_for,
)
from mamori.core.roster.parsing import RosterTable

# The error list keeps this many entries (and counts the rest): enough to fix a file, small enough to show.
MAX_ERRORS = 1000
# A cell starting with one of these is run as a formula by spreadsheet software (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# HR exports write a lone dash for "none"; it is an empty cell, not a formula.
EMPTY_MARKERS = frozenset({"-", "－", "‐", "―", "ー"})
DEPARTMENT_LEVEL_MAX_LENGTH = 100
# Django's own rule for the part before @, compiled once (its lazy regex costs a proxy hop per call).
EMAIL_LOCAL_PART = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)


@dataclass(slots=True)
class RosterEntry:
    """One staff member as the roster states them; fields whose column is absent keep their defaults."""

    row: int
    employee_number: str
    name: str
    email: str
    name_kana: str = ""
    department: str = ""
    position: str = ""
    employment_type: str = Person.EmploymentType.REGULAR
    manager: str = ""  # the manager's employee number once resolved; "" for none


class ErrorList:
    """Row errors in file order, capped at MAX_ERRORS entries while still counting all of them."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.count = 0

    def add(self, row: int | None, column: str, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append({"row": row, "column": column, "message": message})

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass
class ValidatedRoster:
    entries: list[RosterEntry]
    errors: ErrorList
    fields: frozenset[str]  # the roster fields the file has a column for
    ignored_headers: list[str] = field(default_factory=list)


def validate_roster(table: RosterTable, *, verified_domains: set[str], email_owners: dict[str, str]) -> ValidatedRoster:
    """Check ``table`` against itself and the organization.

    ``email_owners`` maps each address already in the organization's roster to its holder's employee
    number: an address may move to the holder's own row, never to somebody else's (unique per org).

    1. Map the header; missing required columns end the check with one file-level error.
    2. Normalise and check each cell of each row.
    3. Check what spans rows: duplicate numbers and addresses, addresses held by people not in the file.
    4. Resolve managers (who may appear later in the file) and refuse self-references and cycles.
    """
    errors = ErrorList()
    columns, labels, ignored = _map_header(table, errors)
    if errors:
        return ValidatedRoster([], errors, frozenset(columns), ignored)
    if not table.rows:
        errors.add(
            table.header_row, "", _("職員の行がありません。見出し行の下に職員を 1 行に 1 人ずつ記入してください。")
        )
    elif not verified_domains:
        errors.add(
            None,
            "",
            _("この組織には確認済みメールドメインがありません。先に「組織の設定」でドメインを登録してください。"),
        )
    if errors:
        return ValidatedRoster([], errors, frozenset(columns), ignored)

    reader = _RowReader(labels, verified_domains, errors)
    entries: list[RosterEntry] = []
    manager_refs: dict[int, str] = {}
    for row_number, cells in table.rows:
        entry, manager_ref = reader.read(row_number, [cells[i] if i < len(cells) else "" for i in columns.values()])
        entries.append(entry)
        if manager_ref:
            manager_refs[row_number] = manager_ref
    _check_uniqueness(entries, labels, email_owners, errors)
    if "manager" in columns:
        _resolve_managers(entries, manager_refs, labels["manager"], errors)
    return ValidatedRoster(entries, errors, frozenset(columns), ignored)


def _map_header(table: RosterTable, errors: ErrorList) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Field → column index and field → header as written; unknown headers are ignored and listed."""
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for index, raw_header in enumerate(table.header):
        # 「メール\nアドレス」 (a line break typed into the header cell) reads as 「メール アドレス」.
        header = " ".join(raw_header.replace("\ufeff", "").split())
        column = column_for_header(header)
        if column is None:
            if header:
                ignored.append(header)
            continue
        if column.field in columns:
            errors.add(
                table.header_row,
                header,
                _("「%(first)s」と「%(second)s」はどちらも「%(label)s」の列です。どちらか一方だけにしてください。")
                % {"first": labels[column.field], "second": header, "label": column.label},
            )
            continue
        columns[column.field] = index
        labels[column.field] = header
    missing = [COLUMNS_BY_FIELD[name].label for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        errors.add(
            table.header_row,
            "",
            _(
                "必須の列がありません: %(columns)s。"
                "見出し行に「氏名」「メール」「職員番号」の列を入れてください"
                "（%(row)s 行目を見出し行として読みました）。"
            )
            % {"columns": "、".join(f"「{label}」" for label in missing), "row": table.header_row},
        )
    # Cells are read in COLUMNS order so that the row reader can unpack them by position.
    ordered = {column.field: columns[column.field] for column in COLUMNS if column.field in columns}
    return ordered, labels, ignored


class _RowReader:
    """Normalises and checks the cells of one row; collects errors as it goes."""

    def __init__(self, labels: dict[str, str], verified_domains: set[str], errors: ErrorList) -> None:
        self.fields = [column.field for column in COLUMNS if column.field in labels]
        self.labels = labels
        self.verified_domains = verified_domains
        self.domain_list = "、".join(sorted(verified_domains))
        self.errors = errors

    def read(self, row: int, cells: list[str]) -> tuple[RosterEntry, str]:
        # A cell that already failed (formula, length) is None: it gets no second error such as "empty".
        values = {name: self._cell(row, name, raw) for name, raw in zip(self.fields, cells, strict=True)}
        entry = RosterEntry(
            row=row,
            employee_number=self._required(row, "employee_number", _nfkc(values["employee_number"])),
            name=self._required(row, "name", values["name"]),
            email=self._email(row, values["email"]),
            name_kana=values.get("name_kana") or "",
            department=self._department(row, values.get("department") or ""),
            position=values.get("position") or "",
            employment_type=self._employment_type(row, values.get("employment_type") or ""),
        )
        return entry, _nfkc(values.get("manager")) or ""

    def _cell(self, row: int, name: str, raw: str) -> str | None:
        value = raw.strip()
        if value in EMPTY_MARKERS:
            return ""
        start = raw.lstrip(" \u3000")[:1]
        if start and start in FORMULA_STARTS:
            shown = {"\t": _("タブ"), "\r": _("改行")}.get(start, start)
            self.errors.add(
                row,
                self.labels[name],
                _(
                    "「%(start)s」で始まる値は、表計算ソフトで数式として実行されるおそれがあるため取り込めません。先頭の記号を削除してください。"
                )
                % {"start": shown},
            )
            return None
        max_length = COLUMNS_BY_FIELD[name].max_length
        if len(value) > max_length:
            self.errors.add(
                row,
                self.labels[name],
                _("%(max)s 文字以内にしてください（%(length)s 文字あります）。")
                % {"max": max_length, "length": len(value)},
            )
            return None
        return value

    def _required(self, row: int, name: str, value: str | None) -> str:
        if value == "":
            self.errors.add(row, self.labels[name], _("必須の項目が空です。"))
        return value or ""

    def _email(self, row: int, value: str | None) -> str:
        email = self._required(row, "email", None if value is None else unicodedata.normalize("NFKC", value).lower())
        if not email:
            return ""
        local_part, _at, domain = email.rpartition("@")
        # The common case, checked cheaply: a verified domain (validated when it was registered).
        if domain in self.verified_domains and EMAIL_LOCAL_PART.match(local_part):
            return email
        try:
            validate_email(email)
        except ValidationError:
            self.errors.add(
                row,
                self.labels["email"],
                _("メールアドレスの形式が正しくありません（「%(value)s」）。") % {"value": value},
            )
            return email
        if domain not in self.verified_domains:
            self.errors.add(
                row,
                self.labels["email"],
                _(
                    "ドメイン「%(domain)s」はこの組織の確認済みドメインではありません（確認済み: %(domains)s）。"
                    "アドレスを直すか、組織の設定でドメインを登録してください。"
                )
                % {"domain": domain, "domains": self.domain_list},
            )
        return email

    def _department(self, row: int, value: str) -> str:
        path = department_path(value)
        if any(len(level) > DEPARTMENT_LEVEL_MAX_LENGTH for level in path.split(PATH_SEPARATOR)):
            self.errors.add(
                row,
                self.labels["department"],
                _("所属の各階層の名称は %(max)s 文字以内にしてください。") % {"max": DEPARTMENT_LEVEL_MAX_LENGTH},
            )
        return path

    def _employment_type(self, row: int, value: str) -> str:
        if not value:
            return Person.EmploymentType.REGULAR
        employment_type = employment_type_for(value)
        if employment_type is None:
            self.errors.add(
                row,
                self.labels["employment_type"],
                _("雇用区分「%(value)s」は使えません。%(hint)s を指定してください。")
                % {"value": value, "hint": EMPLOYMENT_TYPE_HINT},
            )
            return Person.EmploymentType.REGULAR
        return employment_type


def _nfkc(value: str | None) -> str | None:
    """Full-width letters and digits (「ｙａｍａｄａ＠…」「１２３」) as ASCII; None stays None."""
    return None if value is None else unicodedata.normalize("NFKC", value)


def _check_uniqueness(
    entries: list[RosterEntry], labels: dict[str, str], email_owners: dict[str, str], errors: ErrorList
) -> None:
    first_row_of_number: dict[str, int] = {}
    first_row_of_email: dict[str, int] = {}
    numbers_in_file = {entry.employee_number for entry in entries}
    for entry in entries:
        if entry.employee_number:
            first = first_row_of_number.setdefault(entry.employee_number, entry.row)
            if first != entry.row:
                errors.add(
                    entry.row,
                    labels["employee_number"],
                    _("職員番号「%(value)s」が %(row)s 行目と重複しています。")
                    % {"value": entry.employee_number, "row": first},
                )
        if not entry.email:
            continue
        first = first_row_of_email.setdefault(entry.email, entry.row)
        if first != entry.row:
            errors.add(
                entry.row,
                labels["email"],
                _("メールアドレス「%(value)s」が %(row)s 行目と重複しています。")
                % {"value": entry.email, "row": first},
            )
            continue
        owner = email_owners.get(entry.email)
        if owner is not None and owner != entry.employee_number and owner not in numbers_in_file:
            errors.add(
                entry.row,
                labels["email"],
                _(
                    "メールアドレス「%(value)s」は、この名簿に載っていない職員（職員番号 %(number)s）が使っています。"
                    "同じアドレスは 2 人に登録できません。"
                )
                % {"value": entry.email, "number": owner},
            )


def _resolve_managers(entries: list[RosterEntry], manager_refs: dict[int, str], label: str, errors: ErrorList) -> None:
    """Turn each 上長 cell (an employee number or an address) into the manager's employee number."""
    by_number = {entry.employee_number: entry for entry in entries if entry.employee_number}
    by_email = {entry.email: entry for entry in entries if entry.email}
    for entry in entries:
        reference = manager_refs.get(entry.row)
        if not reference:
            continue
        manager = by_email.get(reference.lower()) if "@" in reference else by_number.get(reference)
        if manager is None:
            errors.add(
                entry.row,
                label,
                _("上長「%(value)s」がこの名簿にいません。上長の職員番号かメールアドレスを指定してください。")
                % {"value": reference},
            )
        elif manager is entry:
            errors.add(entry.row, label, _("自分自身を上長には指定できません。"))
        else:
            entry.manager = manager.employee_number
    for cycle in _manager_cycles(by_number):
        chain = " → ".join([*cycle, cycle[0]])
        for number in cycle:
            errors.add(by_number[number].row, label, _("上長の関係が循環しています（%(chain)s）。") % {"chain": chain})


def _manager_cycles(by_number: dict[str, RosterEntry]) -> Iterable[list[str]]:
    """Each cycle in the manager relation once, as employee numbers (a walk from every row, each node once)."""
    finished: set[str] = set()
    for start in by_number:
        path: list[str] = []
        on_path: set[str] = set()
        number = start
        while number and number not in finished:
            if number in on_path:
                yield path[path.index(number) :]
                break
            path.append(number)
            on_path.add(number)
            number = by_number[number].manager
        finished.update(path)
