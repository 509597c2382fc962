"""The roster's columns: which headers mean which field, and how cell values are normalised."""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from mamori.core.models import Person
from mamori.core.models.people import PATH_SEPARATOR


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    required: bool
    max_length: int
    aliases: tuple[str, ...]


# The first alias is the canonical Japanese header; the others are variants seen in HR exports.
COLUMNS = (
    Column("name", "氏名", True, 100, ("氏名", "名前", "職員名", "氏名漢字", "name", "fullname")),
    Column(
        "email",
        "メール",
        True,
        254,
        ("メール", "メールアドレス", "電子メール", "電子メールアドレス", "eメール", "email", "mail", "emailaddress"),
    ),
    Column(
        "employee_number",
        "職員番号",
        True,
        30,
        (
            "職員番号",
            "社員番号",
            "職員コード",
            "職員id",
            "職員no",
            "employeenumber",
            "employeeno",
            "employeeid",
            "staffid",
        ),
    ),
    Column("department", "所属", False, 400, ("所属", "所属部署", "所属名", "所属パス", "部署", "department", "dept")),
    Column("position", "役職", False, 60, ("役職", "役職名", "職名", "職位", "position", "title", "jobtitle")),
    Column(
        "employment_type",
        "雇用区分",
        False,
        40,
        ("雇用区分", "雇用形態", "任用区分", "職員区分", "employmenttype"),
    ),
    Column(
        "manager",
        "上長",
        False,
        254,
        (
            "上長",
            "上司",
            "上長職員番号",
            "上長の職員番号",
            "上長メール",
            "manager",
            "supervisor",
            "manageremployeenumber",
        ),
    ),
    Column(
        "name_kana",
        "かな",
        False,
        100,
        (
            "かな",
            "カナ",
            "ふりがな",
            "フリガナ",
            "よみがな",
            "ヨミガナ",
            "氏名かな",
            "氏名カナ",
            "kana",
            "namekana",
            "furigana",
        ),
    ),
)
COLUMNS_BY_FIELD = {column.field: column for column in COLUMNS}
REQUIRED_FIELDS = tuple(column.field for column in COLUMNS if column.required)

# Characters dropped before a header is compared: spaces, brackets, separators and the like.
_HEADER_NOISE = re.compile(r"[\s_\-・()\[\]「」:：]+")


def header_key(header: str) -> str:
    """Normalise a header for lookup: NFKC (full-width → half-width), case and punctuation folded."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", header)).casefold()


HEADER_ALIASES = {header_key(alias): column for column in COLUMNS for alias in column.aliases}


def column_for_header(header: str) -> Column | None:
    return HEADER_ALIASES.get(header_key(header))


EMPLOYMENT_TYPE_ALIASES = {
    Person.EmploymentType.REGULAR: ("正規", "正規職員", "正職員", "常勤職員", "regular"),
    Person.EmploymentType.FISCAL_YEAR: (
        "会計年度任用",
        "会計年度任用職員",
        "会計年度",
        "会計年度職員",
        "fiscal_year",
        "fiscalyear",
    ),
    Person.EmploymentType.DISPATCHED: ("派遣", "派遣職員", "派遣社員", "dispatched"),
    Person.EmploymentType.CONTRACTOR: ("委託先", "委託", "委託先職員", "委託業者", "受託者", "contractor"),
}
_EMPLOYMENT_TYPES = {
    header_key(alias): employment_type
    for employment_type, aliases in EMPLOYMENT_TYPE_ALIASES.items()
    for alias in aliases
}
EMPLOYMENT_TYPE_HINT = _("正規・会計年度任用・派遣・委託先のいずれか")


def employment_type_for(value: str) -> str | None:
    """The Person.EmploymentType for a cell such as 「会計年度任用職員」; None if unknown."""
    return _EMPLOYMENT_TYPES.get(header_key(value))


# 「総務部／総務課＞文書係」 and 「総務部 › 総務課」 are the same path as 「総務部/総務課/文書係」.
_PATH_SEPARATORS = re.compile(r"[/／>＞›»]")


@lru_cache(maxsize=4096)  # a roster names a few hundred departments, each thousands of times
def department_path(value: str) -> str:
    """The normalised department path: separators unified, each level trimmed, empty levels dropped."""
    levels = (level.strip(" \u3000") for level in _PATH_SEPARATORS.split(value))
    return PATH_SEPARATOR.join(level for level in levels if level)


def department_ancestors(path: str) -> list[str]:
    """「総務部/総務課/文書係」 → [「総務部」, 「総務部/総務課」, 「総務部/総務課/文書係」]."""
    levels = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(levels[: depth + 1]) for depth in range(len(levels))]
