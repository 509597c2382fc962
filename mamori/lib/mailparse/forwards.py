"""Finding a message forwarded inline: the marker line or header block a mail client writes above it.

What clients write (English and Japanese UIs):

- Outlook: a line of underscores or nothing, then 「From: / Sent: / To: / Subject:」 or
  「差出人: / 送信日時: / 宛先: / 件名:」; old Outlook: 「-----Original Message-----」「-----元のメッセージ-----」
- Thunderbird: 「-------- Forwarded Message --------」「-------- 転送メッセージ --------」 then
  「Subject: / Date: / From: / To:」 or 「件名: / 日付: / 差出人: / 宛先:」
- Gmail: 「---------- Forwarded message ---------」「---------- 転送されたメッセージ ---------」 then
  「From: / Date: / Subject: / To:」
- Apple Mail: 「Begin forwarded message:」「転送されたメッセージ:」
"""

import datetime
import re
from dataclasses import dataclass, field

from mamori.lib.mailparse.headers import JST, address_and_name, address_list, parse_date

MARKER_PHRASES = "|".join(
    (
        "original message",
        "forwarded message",
        "転送メッセージ",
        "転送されたメッセージ",
        "元のメッセージ",
        "転送済みメッセージ",
    )
)
MARKER = re.compile(
    rf"^[ \t>]*(?:[-_=]{{2,}}[ \t]*(?:{MARKER_PHRASES})[ \t]*[-_=]{{2,}}"
    r"|(?:begin forwarded message|転送されたメッセージ)[ \t]*[:：])[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
FIELD_NAMES = {
    "from": "from", "差出人": "from", "送信者": "from", "送信元": "from",
    "date": "date", "sent": "date", "送信日時": "date", "日付": "date", "日時": "date", "送信日": "date",
    "to": "to", "宛先": "to", "送信先": "to",
    "cc": "cc",
    "subject": "subject", "件名": "subject", "題名": "subject", "標題": "subject",
    "reply-to": "reply_to", "返信先": "reply_to",
}  # fmt: skip
FIELD = re.compile(
    r"^[ \t>*]*(" + "|".join(sorted(map(re.escape, FIELD_NAMES), key=len, reverse=True)) + r")[ \t*]*[:：][ \t*]*(.*)$",
    re.IGNORECASE,
)
# Outlook writes no marker line: a From line followed closely by a Subject line is the header block.
HEADER_BLOCK_START = re.compile(r"^[ \t>*]*(?:from|差出人|送信者)[ \t*]*[:：]", re.IGNORECASE | re.MULTILINE)
MAX_HEADER_LINES = 16
QUOTE_PREFIX = re.compile(r"^> ?", re.MULTILINE)


@dataclass
class InlineForward:
    """The header block and body of a message quoted under a forward marker."""

    fields: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def from_address_and_name(self) -> tuple[str, str]:
        return address_and_name(self.fields.get("from", "").replace("mailto:", " "))

    @property
    def to(self) -> list[str]:
        return address_list(self.fields.get("to", "").replace("mailto:", " "))

    @property
    def date(self) -> datetime.datetime | None:
        return loose_date(self.fields.get("date", ""))


def find_inline_forward(text: str) -> InlineForward | None:
    """The first message forwarded inline in ``text``; None when there is none."""
    marker = MARKER.search(text)
    starts = [marker.end()] if marker else []
    blocks = (match.start() for match in HEADER_BLOCK_START.finditer(text))
    block = next((start for start in blocks if looks_like_header_block(text, start)), None)
    if block is not None:
        starts.append(block)
    if not starts:
        return None
    forward = read_header_block(text[min(starts) :])
    if not forward.fields and not marker:
        return None
    return forward


def looks_like_header_block(text: str, start: int) -> bool:
    lines = text[start:].split("\n", MAX_HEADER_LINES)[:MAX_HEADER_LINES]
    names = {FIELD_NAMES[found.group(1).lower()] for line in lines if (found := FIELD.match(line))}
    return "subject" in names and ("date" in names or "to" in names)


def read_header_block(text: str) -> InlineForward:
    """Fields from the lines after the marker, up to the first blank line after them; the rest is the body."""
    lines = text.lstrip("\r\n").split("\n")
    quoted = sum(line.startswith(">") for line in lines[:MAX_HEADER_LINES]) > MAX_HEADER_LINES // 2
    if quoted:
        lines = QUOTE_PREFIX.sub("", "\n".join(lines)).split("\n")
    fields: dict[str, str] = {}
    last = ""
    index = 0
    for index, line in enumerate(lines[: MAX_HEADER_LINES * 2]):  # noqa: B007 (the body starts after it)
        found = FIELD.match(line.rstrip("\r"))
        if found:
            last = FIELD_NAMES[found.group(1).lower()]
            fields.setdefault(last, found.group(2).strip())
        elif not line.strip():
            if fields:
                break
        elif last in ("to", "cc") and fields:
            fields[last] += " " + line.strip()  # Outlook wraps long recipient lists
        elif fields:
            break
    body = "\n".join(lines[index + 1 :]) if fields else "\n".join(lines)
    return InlineForward(fields=fields, body=body)


JAPANESE_DATE = re.compile(
    r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\D{0,12}?(\d{1,2}):(\d{2})(?::(\d{2}))?"
)
ENGLISH_DATE = re.compile(
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\D{0,6}?(\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?\s*([AP]\.?M\.?)?",
    re.IGNORECASE,
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def loose_date(value: str) -> datetime.datetime | None:
    """A date as mail clients print it above a forward (RFC 5322, 「2026年11月24日 10:00」, Gmail's
    「Mon, Nov 24, 2026 at 10:00 AM」); times without a zone are JST."""
    if not value:
        return None
    moment = parse_date(value)
    if moment:
        return moment
    try:
        found = JAPANESE_DATE.search(value)
        if found:
            year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
            return datetime.datetime(year, month, day, hour, minute, second, tzinfo=JST)
        found = ENGLISH_DATE.search(value)
        if found:
            month = MONTHS.index(found.group(1).lower()[:3]) + 1
            hour = int(found.group(4)) % 12 if found.group(7) else int(found.group(4))
            if found.group(7) and found.group(7).upper().startswith("P"):
                hour += 12
            second = int(found.group(6) or 0)
            return datetime.datetime(
                int(found.group(3)), month, int(found.group(2)), hour, int(found.group(5)), second, tzinfo=JST
            )
    except ValueError:
        return None
    return None
