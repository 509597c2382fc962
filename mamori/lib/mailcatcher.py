"""A local mail catcher for the demo and the tests: SMTP in, a small web page out.

Every message accepted on the SMTP port is written as one ``.eml`` file, so captured mail survives a
restart and the web page needs no shared memory with the SMTP side. The page lists the messages and shows
each one's headers (decoded: ISO-2022-JP and other encoded words), its text and its HTML.

Captured mail is untrusted (it may be a drill lure or a forwarded attack): the text is escaped, and the HTML
is served only into a sandboxed iframe whose own response forbids scripts and every outside load.
"""

import asyncio
import html
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
MAIL_ID = re.compile(r"^[0-9]{19,20}-[0-9a-f]{8}$")
LIST_LIMIT = 200

# The catcher's own pages: no script at all; the only frame is our sandboxed HTML view.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; base-uri 'none'; form-action 'none'"
# A captured HTML body: sandboxed (no script, no forms, unique origin) and unable to load anything
# from outside, so neither a tracking pixel nor a lure page phones home.
UNTRUSTED_HTML_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class CapturedMail:
    mail_id: str
    received_at: datetime
    subject: str
    sender: str
    recipients: str
    envelope_recipients: list[str]
    date: datetime | None
    text: str
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)


def part_text(part: EmailMessage) -> str:
    """The decoded text of a MIME part; an unknown charset falls back to UTF-8 with replacement."""
    try:
        return part.get_content()
    except LookupError:
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def header_text(message: EmailMessage, name: str) -> str:
    """A header decoded from its encoded words (=?ISO-2022-JP?B?…?=), or '' when absent."""
    value = message.get(name)
    return str(value) if value is not None else ""


def parse_mail(mail_id: str, raw: bytes) -> CapturedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    date_header = message.get("Date")
    date = getattr(date_header, "datetime", None) if date_header is not None else None
    envelope_recipients = [str(value) for value in message.get_all("Delivered-To", [])]
    recipients = ", ".join(header_text(message, name) for name in ("To", "Cc") if message.get(name))
    return CapturedMail(
        mail_id=mail_id,
        received_at=datetime.fromtimestamp(int(mail_id.split("-", 1)[0]) / 1e9, tz=JST),
        subject=header_text(message, "Subject"),
        sender=header_text(message, "From"),
        recipients=recipients or ", ".join(envelope_recipients),
        envelope_recipients=envelope_recipients,
        date=date,
        text=part_text(text_part) if text_part is not None else "",
        html=part_text(html_part) if html_part is not None else None,
        attachments=[
            Attachment(
                filename=part.get_filename() or "",
                content_type=part.get_content_type(),
                size=len(part.get_payload(decode=True) or b""),
            )
            for part in message.iter_attachments()
        ],
    )


class MailStore:
    """Captured messages as ``<nanoseconds>-<random>.eml`` files: the name sorts by arrival."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def save(self, raw: bytes) -> str:
        mail_id = f"{time.time_ns()}-{secrets.token_hex(4)}"
        temporary = self.directory / f".{mail_id}.tmp"
        temporary.write_bytes(raw)
        # Rename is atomic: the web page never reads a half-written message.
        temporary.rename(self.directory / f"{mail_id}.eml")
        return mail_id

    def ids(self) -> list[str]:
        return sorted((path.stem for path in self.directory.glob("*.eml")), reverse=True)

    def raw(self, mail_id: str) -> bytes | None:
        if not MAIL_ID.match(mail_id):
            return None
        path = self.directory / f"{mail_id}.eml"
        return path.read_bytes() if path.is_file() else None

    def load(self, mail_id: str) -> CapturedMail | None:
        raw = self.raw(mail_id)
        return parse_mail(mail_id, raw) if raw is not None else None

    def recent(self, limit: int = LIST_LIMIT) -> list[CapturedMail]:
        return [mail for mail in (self.load(mail_id) for mail_id in self.ids()[:limit]) if mail is not None]


class StoringHandler:
    """aiosmtpd handler: accept every message and store it with its envelope recipients."""

    def __init__(self, store: MailStore):
        self.store = store

    async def handle_DATA(self, server, session, envelope) -> str:
        # Like a real MTA, record the envelope: Bcc recipients appear nowhere else.
        trace = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {recipient}\r\n" for recipient in envelope.rcpt_tos
        )
        raw = trace.encode("utf-8") + (envelope.original_content or envelope.content)
        mail_id = await asyncio.to_thread(self.store.save, raw)
        logger.info("captured %s from %s to %s", mail_id, envelope.mail_from, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def format_date(date: datetime | None) -> str:
    """Date and time in JST (a naive Date header is shown as written)."""
    if date is None:
        return "—"
    if date.tzinfo is not None:
        date = date.astimezone(JST)
    return date.strftime("%Y-%m-%d %H:%M:%S")


STYLE = """
body { font-family: "Noto Sans CJK JP", sans-serif; margin: 1rem 2rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem;
text-align: left; vertical-align: top; } th { background: #f6f8fa; } pre { white-space: pre-wrap;
background: #f6f8fa; padding: 1rem; } iframe { width: 100%; height: 32rem; border: 1px solid #d0d7de; }
dt { font-weight: bold; } dd { margin: 0 0 .3rem 0; }
"""


def render_page(title: str, body: str, *, refresh: bool = False) -> str:
    refresh_tag = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">{refresh_tag}'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def render_list(mails: list[CapturedMail]) -> str:
    rows = "".join(
        f"<tr><td>{format_date(mail.received_at)}</td><td>{html.escape(mail.sender)}</td>"
        f"<td>{html.escape(mail.recipients)}</td>"
        f'<td><a href="/mail/{mail.mail_id}">{html.escape(mail.subject) or "（件名なし）"}</a></td></tr>'
        for mail in mails
    )
    table = (
        "<table><thead><tr><th>受信日時</th><th>差出人</th><th>宛先</th><th>件名</th></tr></thead>"
        f"<tbody>{rows or '<tr><td colspan=4>まだメールは届いていません。</td></tr>'}</tbody></table>"
    )
    heading = "<h1>受信したメール</h1><p>mamori のデモ用メールキャッチャーです。外部には送信されません。</p>"
    return render_page("受信したメール", heading + table, refresh=True)


def render_mail(mail: CapturedMail) -> str:
    headers = "".join(
        f"<dt>{label}</dt><dd>{html.escape(value)}</dd>"
        for label, value in (
            ("件名", mail.subject),
            ("差出人", mail.sender),
            ("宛先", mail.recipients),
            ("配送先（エンベロープ）", ", ".join(mail.envelope_recipients)),
            ("Date ヘッダー", format_date(mail.date)),
            ("受信日時", format_date(mail.received_at)),
        )
    )
    parts = [f'<p><a href="/">← 一覧へ</a></p><h1>{html.escape(mail.subject) or "（件名なし）"}</h1><dl>{headers}</dl>']
    parts.append(f"<h2>テキスト</h2><pre>{html.escape(mail.text) or '（なし）'}</pre>")
    if mail.html is not None:
        parts.append(
            "<h2>HTML（安全のためスクリプトと外部読み込みを止めて表示）</h2>"
            f'<iframe sandbox="" src="/mail/{mail.mail_id}/html" title="HTML 本文"></iframe>'
        )
    if mail.attachments:
        items = "".join(
            f"<li>{html.escape(item.filename or '（名前なし）')} "
            f"({html.escape(item.content_type)}, {item.size:,} バイト)</li>"
            for item in mail.attachments
        )
        parts.append(f"<h2>添付ファイル（開けません）</h2><ul>{items}</ul>")
    parts.append(f'<p><a href="/mail/{mail.mail_id}/raw">元のメッセージ</a></p>')
    return render_page(mail.subject or "メール", "".join(parts))


class CatcherRequestHandler(BaseHTTPRequestHandler):
    store: MailStore
    server_version = "mamori-mailcatcher"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/":
            self.respond(render_list(self.store.recent()))
            return
        if path == "/favicon.ico":
            self.respond(b"", status=HTTPStatus.NO_CONTENT, content_type="image/x-icon")
            return
        match = re.fullmatch(r"/mail/([^/]+)(/html|/raw)?", path)
        mail = self.store.load(match.group(1)) if match else None
        if mail is None:
            self.respond(render_page("見つかりません", "<h1>メールが見つかりません</h1>"), status=HTTPStatus.NOT_FOUND)
        elif match.group(2) == "/html":
            self.respond(mail.html or "", csp=UNTRUSTED_HTML_CSP)
        elif match.group(2) == "/raw":
            self.respond(self.store.raw(mail.mail_id) or b"", content_type="text/plain; charset=utf-8")
        else:
            self.respond(render_mail(mail))

    def respond(
        self,
        body: str | bytes,
        *,
        status: HTTPStatus = HTTPStatus.OK,
        content_type: str = "text/html; charset=utf-8",
        csp: str = PAGE_CSP,
    ) -> None:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:
        logger.debug("http %s", format % args)


class MailCatcher:
    """The SMTP listener and the web page, each on its own thread, over one store."""

    def __init__(self, store: MailStore, *, host: str = "127.0.0.1", smtp_port: int = 1025, http_port: int = 1080):
        self.store = store
        self.host = host
        self.smtp = Controller(StoringHandler(store), hostname=host, port=smtp_port, enable_SMTPUTF8=True)
        handler = type("BoundCatcherRequestHandler", (CatcherRequestHandler,), {"store": store})
        self.http = ThreadingHTTPServer((host, http_port), handler)
        self.http.daemon_threads = True
        self.http_thread = threading.Thread(target=self.http.serve_forever, name="mailcatcher-http", daemon=True)

    @property
    def smtp_port(self) -> int:
        return self.smtp.port

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http.server_address[1]}/"

    def start(self) -> None:
        self.smtp.start()
        self.http_thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.smtp.stop()
