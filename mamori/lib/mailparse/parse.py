"""Entry point: raw report bytes to a ParsedReport.

The structure is read by the standard library's parser with ``policy.compat32``, not ``policy.default``:
compat32 leaves headers as raw strings, which we decode ourselves (Japanese mailers mislabel charsets and
split encoded words in ways the new policy turns into U+FFFD), and it builds no header objects: on the
mix of ``bench/ingest.py``, ``policy.default`` parsing alone is slower than this whole path.
"""

import binascii
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32

from mamori.lib.mailparse import results
from mamori.lib.mailparse.attachments import attachment_of
from mamori.lib.mailparse.charsets import decode_bytes, decode_header, raw_bytes
from mamori.lib.mailparse.forwards import InlineForward, find_inline_forward
from mamori.lib.mailparse.headers import (
    address_and_name,
    address_list,
    addresses_in,
    auth_results,
    domain_of,
    ips_in,
    is_public,
    parse_date,
    received_hop,
    sender_mismatches,
)
from mamori.lib.mailparse.html import html_to_text
from mamori.lib.mailparse.results import Envelope, ParsedReport, ReportedMessage
from mamori.lib.mailparse.tokens import DRILL_HEADER
from mamori.lib.mailparse.urls import find_urls, host_of, ip_of, unwrap

# A 20 MB attachment is about 27 MB in base64; a report mail may carry a few such.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_PARTS = 1_000
MAX_DEPTH = 20
MAX_URLS = 1_000
# Text parts are read up to this size for URLs and the excerpt; a longer one is padding or an attack.
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_EXCERPT_CHARS = 1_000
MAX_RECEIVED_HOPS = 50
# The stdlib parser recurses once per nested multipart or message; past a few hundred levels it raises
# RecursionError. Declarations beyond these counts are defused so the parts below them read as text.
MAX_NESTED_DECLARATIONS = 100
BOUNDARY_DECLARATION = re.compile(rb"boundary\s*=", re.IGNORECASE)
MESSAGE_DECLARATION = re.compile(rb"(content-type\s*:\s*)message/", re.IGNORECASE)
TEXT_ATTACHMENT_TYPES = frozenset({"text/html", "image/svg+xml", "text/plain"})
TEXT_ATTACHMENT_SUFFIXES = (".htm", ".html", ".shtml", ".svg", ".txt", ".url")
RAW_FILENAME = re.compile(r'\b(?:file)?name\s*=\s*"([^"]*)"', re.IGNORECASE)
AUTOMATIC_SENDERS = ("mailer-daemon@", "postmaster@")


def parse_report(raw: bytes | str) -> ParsedReport:
    """Take a report mail apart; never raises (a report must never be lost to a parser bug).

    A bug or an input beyond every limit still gives a report, with UNPARSEABLE and the top headers.
    """
    try:
        return ReportReader(raw).read()
    except Exception:
        return unparseable(raw)


def unparseable(raw: bytes | str) -> ParsedReport:
    """What can still be said of a mail whose structure broke the parser: its top headers, if even that."""
    report = ParsedReport(envelope=Envelope(), reported=ReportedMessage(), forwarded_as=results.FORWARDED_AS_NONE)
    report.problems.append(results.UNPARSEABLE)
    try:
        data = raw_bytes(raw) if isinstance(raw, str) else bytes(raw)
        head = data[:65_536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        message = HeaderParser(policy=compat32).parsestr(head.decode("ascii", "surrogateescape"))
        report.envelope = envelope_of(message)
    except Exception:  # noqa: S110 (the empty envelope already says it all)
        pass
    return report


@dataclass
class Content:
    """What one message holds, not looking inside the messages attached to it."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    # Attached HTML/SVG/text files: phishing pages travel as attachments; their URLs count.
    linked: list[str] = field(default_factory=list)
    attachments: list[results.Attachment] = field(default_factory=list)
    messages: list[tuple[Message, int]] = field(default_factory=list)


def boundary_mentions(raw: bytes) -> int:
    return raw.count(b"oundary") + raw.count(b"OUNDARY")


def message_mentions(raw: bytes) -> int:
    return raw.count(b"essage/") + raw.count(b"ESSAGE/")


class ReportReader:
    """One parse: the bytes, the problems found on the way, and the part budget shared by all messages."""

    def __init__(self, raw: bytes | str) -> None:
        self.raw = raw_bytes(raw) if isinstance(raw, str) else bytes(raw)
        self.problems: list[str] = []
        self.parts_seen = 0

    def flag(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def read(self) -> ParsedReport:
        raw = self.raw
        if len(raw) > MAX_MESSAGE_BYTES:
            raw = raw[:MAX_MESSAGE_BYTES]
            self.flag(results.TOO_LARGE)
        message = self.parse_bytes(raw)
        outer = self.content(message, 0)
        envelope = envelope_of(message)
        reported_message, reported_content = message, outer
        if outer.messages:
            if len(outer.messages) > 1:
                self.flag(results.SEVERAL_ATTACHED_MESSAGES)
            reported_message, reported_content = self.innermost_attached(*outer.messages[0])
            reported = self.reported_from_headers(reported_message)
            self.fill_from_content(reported, reported_content, [])
            forwarded_as = results.FORWARDED_AS_ATTACHMENT
        else:
            forwards = innermost_inline(self.inline_forwards(outer))
            if forwards:
                reported = self.reported_from_inline(forwards[0])
                self.fill_from_content(reported, outer, [forward.body for forward in forwards])
                forwarded_as = results.FORWARDED_AS_INLINE
            else:
                reported = self.reported_from_headers(message)
                self.fill_from_content(reported, outer, [])
                forwarded_as = results.FORWARDED_AS_NONE
        own_texts = all_texts(outer) if forwarded_as != results.FORWARDED_AS_NONE else []
        envelope.urls = self.other_urls(
            own_texts, [*outer.messages, *reported_content.messages], reported_message, reported
        )
        if not reported.from_ or not reported.date:
            self.flag(results.MISSING_HEADERS)
        return ParsedReport(envelope=envelope, reported=reported, forwarded_as=forwarded_as, problems=self.problems)

    def parse_bytes(self, raw: bytes) -> Message:
        raw = self.defuse_deep_nesting(raw)
        try:
            return BytesParser(policy=compat32).parsebytes(raw)
        except RecursionError:
            self.flag(results.TOO_DEEP)
            head = raw[:65_536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            return HeaderParser(policy=compat32).parsestr(head.decode("ascii", "surrogateescape"))

    def defuse_deep_nesting(self, raw: bytes) -> bytes:
        """Rename multipart boundaries and message/* types past MAX_NESTED_DECLARATIONS so they are text."""
        for declaration, replacement, cheap_count in (
            (BOUNDARY_DECLARATION, rb"defused-boundary=", boundary_mentions),
            (MESSAGE_DECLARATION, rb"\1defused/", message_mentions),
        ):
            # Counting a substring costs a tenth of the regex; nearly all mail stops here. Mixed-case
            # spellings slip past it, and then RecursionError in parse_bytes is the last line of defence.
            if cheap_count(raw) <= MAX_NESTED_DECLARATIONS or len(declaration.findall(raw)) <= MAX_NESTED_DECLARATIONS:
                continue
            self.flag(results.TOO_DEEP)
            seen = 0

            def defuse(match: re.Match, replacement: bytes = replacement) -> bytes:
                nonlocal seen
                seen += 1
                return match.group(0) if seen <= MAX_NESTED_DECLARATIONS else match.expand(replacement)

            raw = declaration.sub(defuse, raw)
        return raw

    def content(self, message: Message, depth: int) -> Content:
        """Walk one message's parts in document order, without recursion, within the limits."""
        content = Content()
        stack = [(message, depth)]
        while stack:
            part, level = stack.pop()
            self.parts_seen += 1
            if self.parts_seen > MAX_PARTS:
                self.flag(results.TOO_MANY_PARTS)
                break
            if level > MAX_DEPTH:
                self.flag(results.TOO_DEEP)
                continue
            if part.defects:
                self.flag(results.MALFORMED_MIME)
            payload = part.get_payload()
            if part is not message and part.get_content_maintype() == "message" and isinstance(payload, list):
                attached = self.attached_message(part, payload)
                if attached is not None:
                    content.messages.append((attached, level + 1))
                continue
            if isinstance(payload, list):
                stack.extend((child, level + 1) for child in reversed(payload) if isinstance(child, Message))
            elif part.get_content_maintype() == "multipart":
                # No usable boundary: the parts are one undivided text; their links still count.
                content.linked.append(self.text_of(part, self.payload_bytes(part)))
            else:
                self.leaf(part, level, content)
        return content

    def leaf(self, part: Message, level: int, content: Content) -> None:
        content_type = part.get_content_type()
        name = self.filename(part)
        data = self.payload_bytes(part)
        is_attachment = part.get_content_disposition() == "attachment" or bool(name)
        if content_type in ("text/plain", "text/html") and not is_attachment:
            text = self.text_of(part, data)
            (content.html if content_type == "text/html" else content.plain).append(text)
            return
        if name.lower().endswith(".eml") and level < MAX_DEPTH:
            content.messages.append((self.parse_bytes(data), level + 1))
            return
        attachment, unreadable = attachment_of(name, content_type, data)
        if unreadable:
            self.flag(results.ARCHIVE_UNREADABLE)
        content.attachments.append(attachment)
        if content_type in TEXT_ATTACHMENT_TYPES or name.lower().endswith(TEXT_ATTACHMENT_SUFFIXES):
            text = self.text_of(part, data)
            content.linked.append(html_to_text(text) if "<" in text else text)

    def payload_bytes(self, part: Message) -> bytes:
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""

    def attached_message(self, part: Message, payload: list) -> Message | None:
        """The message of a message/rfc822 part, decoded first when a client base64-encoded it.

        RFC 2046 forbids encoding message/rfc822, so the stdlib parsed the encoded text itself as a message
        without headers; its body is the encoded original.
        """
        if not payload or not isinstance(payload[0], Message):
            return None
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        encoded = payload[0].get_payload()
        if encoding not in ("base64", "quoted-printable") or not isinstance(encoded, str):
            return payload[0]
        self.flag(results.MALFORMED_MIME)
        data = raw_bytes(encoded)
        try:
            decoded = binascii.a2b_base64(data) if encoding == "base64" else quopri.decodestring(data)
        except (binascii.Error, ValueError):
            return payload[0]
        return self.parse_bytes(decoded)

    def filename(self, part: Message) -> str:
        value = None
        for parameter, header in (("filename", "content-disposition"), ("name", "content-type")):
            try:
                value = part.get_param(parameter, header=header)
            except (ValueError, LookupError, TypeError, IndexError):
                value = None
            if value:
                break
        if isinstance(value, tuple):
            return self.rfc2231_text(*value)[:255]
        name = str(value or "")
        if "\ufffd" in name:
            # Raw 8-bit (Shift_JIS) names, as old Japanese mailers write them, lost their bytes in compat32.
            headers = raw_headers(part, "Content-Disposition") + raw_headers(part, "Content-Type")
            found = RAW_FILENAME.search(" ".join(headers))
            name = found.group(1) if found else name
        return self.header_text(name)[:255] if name else ""

    def rfc2231_text(self, charset: str | None, _language: str | None, text: str) -> str:
        """An RFC 2231 parameter (``filename*=shift_jis''%90%BF…``): compat32 hands over its bytes as
        Latin-1 characters, to be decoded in the named charset (or guessed when it is unknown)."""
        try:
            data = text.encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            return self.header_text(text)
        decoded = decode_bytes(data, charset)
        self.note_decoding(decoded)
        return decoded.text.strip()

    def text_of(self, part: Message, data: bytes) -> str:
        if len(data) > MAX_TEXT_BYTES:
            data = data[:MAX_TEXT_BYTES]
            self.flag(results.TEXT_TRUNCATED)
        try:
            charset = part.get_content_charset()
        except (ValueError, LookupError, TypeError):
            charset = None
        decoded = decode_bytes(data, charset)
        self.note_decoding(decoded)
        return decoded.text.replace("\r\n", "\n").replace("\r", "\n")

    def note_decoding(self, decoded) -> None:
        if decoded.guessed:
            self.flag(results.CHARSET_GUESSED)
        if decoded.lossy:
            self.flag(results.UNDECODABLE_TEXT)

    def header_text(self, value: object) -> str:
        if not isinstance(value, str):
            value = str(value)
        decoded = decode_header(value)
        self.note_decoding(decoded)
        return decoded.text.strip()

    def header(self, message: Message, name: str) -> str:
        values = raw_headers(message, name)
        return self.header_text(values[0]) if values else ""

    def headers(self, message: Message, name: str) -> list[str]:
        return [self.header_text(value) for value in raw_headers(message, name)]

    def other_urls(
        self,
        texts: list[str],
        messages: list[tuple[Message, int]],
        reported_message: Message,
        reported: ReportedMessage,
    ) -> list[str]:
        """Links elsewhere in the report: the reporter's own text (「このリンクを開いてしまいました」) and
        messages attached beside or inside the reported one; drill matching looks at them too."""
        seen = {id(reported_message)}
        pending = list(messages)
        while pending and self.parts_seen <= MAX_PARTS:
            message, depth = pending.pop()
            if id(message) in seen:
                continue
            seen.add(id(message))
            content = self.content(message, depth)
            texts = [*texts, *all_texts(content)]
            pending += content.messages
        known = set(reported.urls)
        return [url for url in urls_in(texts)[0] if url not in known][:MAX_URLS]

    def innermost_attached(self, message: Message, depth: int) -> tuple[Message, Content]:
        """The attached message, or the one attached to it when it is itself only a forward (a colleague
        forwarded the mail to the reporter, who forwarded that as an attachment): its subject says so, or it
        has no text of its own."""
        content = self.content(message, depth)
        while (
            content.messages
            and depth < MAX_DEPTH
            and (is_forward_subject(self.header(message, "Subject")) or not (content.plain or content.html))
        ):
            message, depth = content.messages[0]
            content = self.content(message, depth)
        return message, content

    def inline_forwards(self, outer: Content) -> list[InlineForward]:
        """The forward found in the plain text and the one in the HTML (it carries the link targets).

        The parts of each kind are read as one text: Apple Mail splits a body into several text parts around
        inline images, so the quoted message may go on in the parts after the marker.
        """
        forwards = []
        for text in ("\n".join(outer.plain), "\n".join(html_to_text(markup) for markup in outer.html)):
            forward = find_inline_forward(text) if text else None
            if forward:
                forwards.append(forward)
        return forwards

    def reported_from_headers(self, message: Message) -> ReportedMessage:
        from_address, from_name = address_and_name(self.header(message, "From"))
        reply_to = address_and_name(self.header(message, "Reply-To"))[0]
        return_path = address_and_name(self.header(message, "Return-Path"))[0]
        received = [received_hop(value) for value in self.headers(message, "Received")]
        return ReportedMessage(
            subject=self.header(message, "Subject"),
            from_=from_address,
            from_name=from_name,
            reply_to=reply_to,
            return_path=return_path,
            to=address_list(self.header(message, "To")),
            date=parse_date(self.header(message, "Date")),
            message_id=self.header(message, "Message-ID"),
            received=received[:MAX_RECEIVED_HOPS],
            auth_results=auth_results(
                self.headers(message, "Authentication-Results"), self.headers(message, "Received-SPF")
            ),
            mismatches=sender_mismatches(from_address, from_name, reply_to, return_path),
            drill_headers=self.headers(message, DRILL_HEADER),
            ips=[ip for name in ("X-Originating-IP", "X-Sender-IP") for ip in ips_in(self.header(message, name))],
        )

    def reported_from_inline(self, forward: InlineForward) -> ReportedMessage:
        from_address, from_name = forward.from_address_and_name
        reply_to = address_and_name(forward.fields.get("reply_to", "").replace("mailto:", " "))[0]
        return ReportedMessage(
            subject=forward.fields.get("subject", ""),
            from_=from_address,
            from_name=from_name,
            reply_to=reply_to,
            to=forward.to,
            date=forward.date,
            mismatches=sender_mismatches(from_address, from_name, reply_to, ""),
        )

    def fill_from_content(self, reported: ReportedMessage, content: Content, forwarded_bodies: list[str]) -> None:
        """URLs, domains, IPs, addresses, attachments and excerpt; ``forwarded_bodies`` replace the texts
        of an inline forward (only what is below its header block belongs to the reported message)."""
        texts = forwarded_bodies or content.plain + [html_to_text(markup) for markup in content.html]
        reported.attachments = content.attachments
        reported.text_excerpt = excerpt(texts)
        self.fill_urls(reported, [*texts, *content.linked])
        sender_addresses = [address for address in (reported.from_, reported.reply_to, reported.return_path) if address]
        body_addresses = [address for text in texts for address in addresses_in(text)]
        reported.addresses = list(dict.fromkeys(sender_addresses + body_addresses))
        hop_ips = [ip for hop in reported.received for ip in hop.ips]
        url_ips = [host for host in map(host_of, reported.urls) if ip_of(host)]
        reported.ips = list(dict.fromkeys(ip for ip in [*hop_ips, *reported.ips, *url_ips] if is_public(ip)))
        url_domains = [host for host in map(host_of, reported.urls) if host and not ip_of(host)]
        reported.domains = list(dict.fromkeys(url_domains + [domain_of(address) for address in sender_addresses]))

    def fill_urls(self, reported: ReportedMessage, texts: list[str]) -> None:
        urls, rewritten = urls_in(texts)
        if len(urls) > MAX_URLS:
            self.flag(results.TOO_MANY_URLS)
        reported.urls = urls[:MAX_URLS]
        reported.rewritten_urls = rewritten[:MAX_URLS]


def urls_in(texts: list[str]) -> tuple[list[str], list[str]]:
    """The destinations (rewrites unwrapped) and the rewritten forms found, each once, first seen first."""
    urls: dict[str, None] = {}
    rewritten: dict[str, None] = {}
    for text in texts:
        for found in find_urls(text):
            destination = unwrap(found)
            if destination != found:
                rewritten[found] = None
            urls[destination] = None
    return list(urls), list(rewritten)


def all_texts(content: Content) -> list[str]:
    return [*content.plain, *(html_to_text(markup) for markup in content.html), *content.linked]


FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:fw|fwd|転送|tr|wg)\s*[:：]\s*)+", re.IGNORECASE)


def is_forward_subject(subject: str) -> bool:
    return bool(FORWARD_SUBJECT.match(subject))


def innermost_inline(forwards: list[InlineForward]) -> list[InlineForward]:
    """Each forward's innermost one, while the quoted message is itself a forward (「FW: FW: …」)."""
    innermost = []
    for forward in forwards:
        for _ in range(MAX_DEPTH):
            inner = find_inline_forward(forward.body) if is_forward_subject(forward.fields.get("subject", "")) else None
            if inner is None:
                break
            forward = inner
        innermost.append(forward)
    return innermost


SPACE_RUNS = re.compile(r"[ \t\u3000]+")
BLANK_RUNS = re.compile(r"\n\s*\n+")


def excerpt(texts: list[str]) -> str:
    for text in texts:
        text = BLANK_RUNS.sub("\n\n", SPACE_RUNS.sub(" ", text.replace("\r\n", "\n"))).strip()
        if text:
            return text[:MAX_EXCERPT_CHARS]
    return ""


def raw_headers(message: Message, name: str) -> list[str]:
    """A header's values as received: compat32's ``get`` wraps 8-bit values in Header objects that have
    already replaced the bytes we want to guess the charset of."""
    wanted = name.lower()
    return [value for key, value in message.raw_items() if key.lower() == wanted and isinstance(value, str)]


def envelope_of(message: Message) -> Envelope:
    def header(name: str) -> str:
        values = raw_headers(message, name)
        return decode_header(values[0]).text.strip() if values else ""

    from_address, from_name = address_and_name(header("From"))
    return Envelope(
        from_=from_address,
        from_name=from_name,
        to=address_list(header("To")),
        subject=header("Subject"),
        date=parse_date(header("Date")),
        message_id=header("Message-ID"),
        reply_to=address_and_name(header("Reply-To"))[0],
        is_automatic=is_automatic(message, from_address),
    )


def is_automatic(message: Message, from_address: str) -> bool:
    """An auto-reply, bounce or bulk mail (RFC 3834 and common habits): answering it could loop."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto_submitted != "no"
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or any(message.get(name) is not None for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"))
        or message.get_content_type() == "multipart/report"
        or str(message.get("Return-Path", "")).strip() == "<>"
        or from_address.startswith(AUTOMATIC_SENDERS)
    )
