"""Taking a reported mail apart: the suspicious message inside a forward, its headers, URLs and files.

Framework-free (no Django) pure functions over raw bytes. Nothing raises on any input: odd or oversized
mail is flagged in ``ParsedReport.problems`` and parsed as far as it can be.

    parsed = parse_report(raw_bytes)
    parsed.reported.urls, parsed.reported.attachments, parsed.forwarded_as
    drill_tokens(parsed)  # delivery tokens of mamori drill links, in URLs (also rewritten ones) and headers
"""

from mamori.lib.mailparse.parse import MAX_DEPTH, MAX_MESSAGE_BYTES, MAX_PARTS, MAX_URLS, parse_report
from mamori.lib.mailparse.results import (
    ARCHIVE_UNREADABLE,
    CHARSET_GUESSED,
    DISPLAY_NAME_MISMATCH,
    FORWARDED_AS_ATTACHMENT,
    FORWARDED_AS_INLINE,
    FORWARDED_AS_NONE,
    MALFORMED_MIME,
    MISSING_HEADERS,
    REPLY_TO_MISMATCH,
    RETURN_PATH_MISMATCH,
    SEVERAL_ATTACHED_MESSAGES,
    TEXT_TRUNCATED,
    TOO_DEEP,
    TOO_LARGE,
    TOO_MANY_PARTS,
    TOO_MANY_URLS,
    UNDECODABLE_TEXT,
    UNPARSEABLE,
    Attachment,
    AuthResults,
    Envelope,
    ParsedReport,
    ReceivedHop,
    ReportedMessage,
)
from mamori.lib.mailparse.tokens import DELIVERY_TOKEN_PATTERN, DRILL_HEADER, DRILL_LINK_PREFIXES, drill_tokens

__all__ = [
    "ARCHIVE_UNREADABLE",
    "CHARSET_GUESSED",
    "DELIVERY_TOKEN_PATTERN",
    "DISPLAY_NAME_MISMATCH",
    "DRILL_HEADER",
    "DRILL_LINK_PREFIXES",
    "FORWARDED_AS_ATTACHMENT",
    "FORWARDED_AS_INLINE",
    "FORWARDED_AS_NONE",
    "MALFORMED_MIME",
    "MAX_DEPTH",
    "MAX_MESSAGE_BYTES",
    "MAX_PARTS",
    "MAX_URLS",
    "MISSING_HEADERS",
    "REPLY_TO_MISMATCH",
    "RETURN_PATH_MISMATCH",
    "SEVERAL_ATTACHED_MESSAGES",
    "TEXT_TRUNCATED",
    "TOO_DEEP",
    "TOO_LARGE",
    "TOO_MANY_PARTS",
    "TOO_MANY_URLS",
    "UNDECODABLE_TEXT",
    "UNPARSEABLE",
    "Attachment",
    "AuthResults",
    "Envelope",
    "ParsedReport",
    "ReceivedHop",
    "ReportedMessage",
    "drill_tokens",
    "parse_report",
]
