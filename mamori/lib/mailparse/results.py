"""What the parser returns: plain dataclasses, no Django, safe to pickle and to turn into JSON.

Every text field is a ``str`` already decoded (Japanese charsets included); nothing here is trusted input
any more in the sense of bytes, but it is still attacker-written text: escape it when showing it.
"""

import dataclasses
import datetime
import functools
from dataclasses import dataclass, field

# How the reported message reached us inside the report.
FORWARDED_AS_ATTACHMENT = "attachment"  # a message/rfc822 part (Outlook「添付ファイルとして転送」, add-ins)
FORWARDED_AS_INLINE = "inline"  # quoted in the body under a 「転送メッセージ」/「Original Message」 header block
FORWARDED_AS_NONE = "none"  # the report is the suspicious message itself (API, .eml upload)

# Problem codes in ParsedReport.problems: the input was odd or over a limit; parsing went on regardless.
TOO_LARGE = "too-large"  # bigger than MAX_MESSAGE_BYTES: only the first MAX_MESSAGE_BYTES were read
TOO_MANY_PARTS = "too-many-parts"  # parts beyond MAX_PARTS were not looked at
TOO_DEEP = "too-deep"  # parts nested deeper than MAX_DEPTH were not looked at
MALFORMED_MIME = "malformed-mime"  # the stdlib parser recorded defects (missing boundary, bad base64, …)
UNPARSEABLE = "unparseable"  # the structure could not be read at all; only the raw bytes are left
CHARSET_GUESSED = "charset-guessed"  # a part or header was mislabeled or unlabeled; the charset was guessed
UNDECODABLE_TEXT = "undecodable-text"  # some bytes fit no charset tried and were replaced (U+FFFD)
MISSING_HEADERS = "missing-headers"  # the reported message has no From or no Date
SEVERAL_ATTACHED_MESSAGES = "several-attached-messages"  # only the first attached message is the reported one
TOO_MANY_URLS = "too-many-urls"  # URLs beyond MAX_URLS were dropped
TEXT_TRUNCATED = "text-truncated"  # a text part beyond MAX_TEXT_BYTES was read only up to that size
ARCHIVE_UNREADABLE = "archive-unreadable"  # a zip attachment whose directory could not be read (or encrypted)

# Codes in ReportedMessage.mismatches: the sender headers disagree with From (a phishing sign, not proof).
REPLY_TO_MISMATCH = "reply-to"  # Reply-To's domain differs from From's
RETURN_PATH_MISMATCH = "return-path"  # Return-Path's (envelope sender's) domain differs from From's
DISPLAY_NAME_MISMATCH = "display-name"  # the display name holds an address other than the real one


@dataclass(frozen=True)
class ReceivedHop:
    """One ``Received:`` header, topmost (nearest to us) first."""

    from_host: str
    by_host: str
    ips: tuple[str, ...]
    date: datetime.datetime | None
    raw: str


@dataclass(frozen=True)
class AuthResults:
    """Verdicts from ``Authentication-Results`` (and ``Received-SPF``); "" when no header says.

    The topmost header wins: it is the one our own gateway added; lower ones may be forged by the sender.
    """

    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    dkim_domains: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file attached to the reported message; a zip's member names are listed, never extracted."""

    name: str
    size: int
    sha256: str
    content_type: str
    archive_members: tuple[str, ...] = ()
    archive_encrypted: bool = False  # a password-protected zip (「PPAP」), the usual way malware gets past scanning


@dataclass
class ReportedMessage:
    """The suspicious message the person reported, found inside their forward (or the report itself)."""

    subject: str = ""
    from_: str = ""  # the address only, lower-cased ("" when missing)
    from_name: str = ""
    reply_to: str = ""
    return_path: str = ""
    to: list[str] = field(default_factory=list)
    date: datetime.datetime | None = None
    message_id: str = ""
    received: list[ReceivedHop] = field(default_factory=list)
    auth_results: AuthResults = field(default_factory=AuthResults)
    mismatches: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # de-obfuscated, gateway rewrites unwrapped, first seen first
    rewritten_urls: list[str] = field(default_factory=list)  # the gateway-rewritten forms, as found
    domains: list[str] = field(default_factory=list)  # of URLs and sender addresses, lower-cased (punycode kept)
    ips: list[str] = field(default_factory=list)  # public IPs of the Received chain and of URL hosts
    addresses: list[str] = field(default_factory=list)  # sender addresses first, then those in the text
    attachments: list[Attachment] = field(default_factory=list)
    drill_headers: list[str] = field(default_factory=list)  # values of X-Mamori-Drill
    text_excerpt: str = ""


@dataclass
class Envelope:
    """The report mail itself: who forwarded it (the reporter) and when."""

    from_: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime.datetime | None = None
    message_id: str = ""
    reply_to: str = ""
    # Links elsewhere in the report (the reporter's own text, other attached messages), not in ``reported``.
    urls: list[str] = field(default_factory=list)
    # An auto-reply, bounce or list mail: never answer it with a thanks mail (mail loops).
    is_automatic: bool = False


@dataclass
class ParsedReport:
    """A report mail taken apart. ``problems`` holds the codes above; it is empty for a clean mail."""

    envelope: Envelope
    reported: ReportedMessage
    forwarded_as: str
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain JSON-able data (dates in ISO 8601, tuples as lists) for storage and ``ingest-eml`` output."""
        return plain(self)


def plain(value: object) -> object:
    # dataclasses.asdict deep-copies every leaf; this costs a third as much, and reports are mostly leaves.
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return {name: plain(getattr(value, name)) for name in field_names(type(value))}


@functools.cache
def field_names(kind: type) -> tuple[str, ...]:
    return tuple(each.name for each in dataclasses.fields(kind))
