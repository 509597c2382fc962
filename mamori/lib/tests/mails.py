"""Report mails as real clients write them: the suspicious original, and forwards of it.

Built with the standard library (compat32, like mamori's own sender) so that the bytes are what Outlook,
Thunderbird and Gmail put on the wire: ISO-2022-JP encoded words, base64 UTF-8 HTML, message/rfc822
attachments, and the header blocks each client writes above an inline forward.
"""

import io
import zipfile
from email.generator import BytesGenerator
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.policy import compat32
from email.utils import formataddr
from urllib.parse import quote

DRILL_BASE = "https://drill.example.jp"
TOKEN = "Ab3dEf6hIj9kLm2nOp5qRs"
OTHER_TOKEN = "Zz9yXx8wVv7uTt6sRr5qQq"
REPORTER = "yamada.taro@city.example.lg.jp"
REPORT_ADDRESS = "report@city.example.lg.jp"
PHISH_FROM = "support@evil-bank.example"
PHISH_SUBJECT = "【重要】アカウントの確認のお願い"
PHISH_TEXT = "いつもご利用ありがとうございます。\n以下のリンクから本人確認をお願いします。\n{url}\n期限：本日中\n"
PHISH_HTML = (
    "<html><body><p>いつもご利用ありがとうございます。</p>"
    '<p>以下のリンクから<a href="{url}">本人確認</a>をお願いします。</p>'
    '<img src="{pixel}" width="1" height="1"><a href="{trap}" class="x"></a></body></html>'
)


def as_bytes(message) -> bytes:
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=compat32.clone(linesep="\r\n"), mangle_from_=False).flatten(message)
    return buffer.getvalue()


def drill_url(prefix: str = "c", token: str = TOKEN) -> str:
    return f"{DRILL_BASE}/{prefix}/{token}"


def safe_link(url: str) -> str:
    return f"https://apc01.safelinks.protection.outlook.com/?url={quote(url, safe='')}&data=05%7C02%7C&reserved=0"


def proofpoint_v2(url: str) -> str:
    """URL Defense v2: percent-encoded with ``-`` for ``%`` and ``_`` for ``/`` (``-`` and ``_`` escaped first)."""
    encoded = quote(url, safe="/").replace("-", "%2D").replace("_", "%5F").replace("%", "-").replace("/", "_")
    return f"https://urldefense.proofpoint.com/v2/url?u={encoded}&d=DwMFaQ&c=abc&r=def&m=ghi&s=jkl&e="


def original(
    *,
    url: str | None = None,
    charset: str = "iso-2022-jp",
    subject: str = PHISH_SUBJECT,
    html: bool = True,
    drill_header: str | None = None,
    attachments: list[tuple[str, bytes]] = (),
    reply_to: str = "",
) -> bytes:
    """The suspicious mail as it arrived in the reporter's mailbox (Received and auth headers included)."""
    url = url or drill_url()
    text = MIMEText(PHISH_TEXT.format(url=url), "plain", charset)
    if html:
        body = MIMEMultipart("alternative")
        body.attach(text)
        markup = PHISH_HTML.format(url=url, pixel=drill_url("o") + ".gif", trap=drill_url("x"))
        body.attach(MIMEText(markup, "html", "utf-8"))
    else:
        body = text
    if attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for name, data in attachments:
            part = MIMEApplication(data)
            part.add_header("Content-Disposition", "attachment", filename=("iso-2022-jp", "", name))
            mixed.attach(part)
        body = mixed
    body["Return-Path"] = "<bounce@mailer.evil-bank.example>"
    body["Received"] = (
        "from mail.evil-bank.example (mail.evil-bank.example [45.33.32.156])\r\n\tby mx.city.example.lg.jp "
        "(Postfix) with ESMTPS id 4AbCdE for <yamada.taro@city.example.lg.jp>; Tue, 24 Nov 2026 09:58:01 +0900"
    )
    body["Received"] = "from [10.0.0.5] (unknown [10.0.0.5]) by mail.evil-bank.example; Tue, 24 Nov 2026 09:57:59 +0900"
    body["Authentication-Results"] = (
        "mx.city.example.lg.jp; spf=softfail smtp.mailfrom=mailer.evil-bank.example; "
        "dkim=none; dmarc=fail header.from=evil-bank.example"
    )
    body["From"] = formataddr((str(Header("サポートセンター", charset)), PHISH_FROM))
    if reply_to:
        body["Reply-To"] = reply_to
    body["To"] = REPORTER
    body["Subject"] = Header(subject, charset)
    body["Date"] = "Tue, 24 Nov 2026 09:58:00 +0900"
    body["Message-ID"] = "<20261124095800.1234@evil-bank.example>"
    if drill_header:
        body["X-Mamori-Drill"] = drill_header
    return as_bytes(body)


def forward_as_attachment(
    raw_original: bytes, *, client: str = "outlook", note: str = "不審なメールを報告します。"
) -> bytes:
    """Outlook「添付ファイルとして転送」, Thunderbird's and Gmail's forward as attachment, the report add-ins."""
    forward = MIMEMultipart("mixed")
    forward.attach(MIMEText(note, "plain", "utf-8" if client != "thunderbird" else "iso-2022-jp"))
    attached = MIMEMessage(BytesParser(policy=compat32).parsebytes(raw_original))
    if client == "outlook":
        attached.add_header("Content-Disposition", "attachment", filename="アカウントの確認.eml")
    forward.attach(attached)
    return envelope(forward, "FW: " + PHISH_SUBJECT if client == "outlook" else "Fwd: " + PHISH_SUBJECT)


INLINE_HEADERS = {
    ("outlook", "ja"): "________________________________\n差出人: サポートセンター <{sender}>\n"
    "送信日時: 2026年11月24日 9:58\n宛先: 山田 太郎 <{reporter}>\n件名: {subject}\n\n",
    ("outlook", "en"): "-----Original Message-----\nFrom: Support Center <{sender}>\n"
    "Sent: Tuesday, November 24, 2026 9:58 AM\nTo: Yamada Taro <{reporter}>\nSubject: {subject}\n\n",
    (
        "thunderbird",
        "ja",
    ): "-------- 転送メッセージ --------\n件名: \t{subject}\n日付: \tTue, 24 Nov 2026 09:58:00 +0900\n"
    "差出人: \tサポートセンター <{sender}>\n宛先: \t{reporter}\n\n\n\n",
    ("thunderbird", "en"): "-------- Forwarded Message --------\nSubject: \t{subject}\n"
    "Date: \tTue, 24 Nov 2026 09:58:00 +0900\nFrom: \tSupport Center <{sender}>\nTo: \t{reporter}\n\n\n\n",
    ("gmail", "ja"): "---------- Forwarded message ---------\nFrom: サポートセンター <{sender}>\n"
    "Date: 2026年11月24日(火) 9:58\nSubject: {subject}\nTo: <{reporter}>\n\n\n",
    ("gmail", "en"): "---------- Forwarded message ---------\nFrom: Support Center <{sender}>\n"
    "Date: Tue, Nov 24, 2026 at 9:58 AM\nSubject: {subject}\nTo: <{reporter}>\n\n\n",
}


def forward_inline(
    *,
    client: str = "outlook",
    language: str = "ja",
    url: str | None = None,
    charset: str = "iso-2022-jp",
    html: bool = True,
    note: str = "お疲れ様です。不審なメールが届きました。\n署名 https://www.city.example.lg.jp/\n\n",
    attachments: list[tuple[str, bytes]] = (),
) -> bytes:
    """The original quoted in the body under the client's header block (plain, and HTML like the client)."""
    url = url or drill_url()
    block = INLINE_HEADERS[(client, language)].format(sender=PHISH_FROM, reporter=REPORTER, subject=PHISH_SUBJECT)
    # Outlook's plain text shows a link's target in angle brackets after its text.
    quoted = PHISH_TEXT.format(url=f"本人確認 <{url}>" if client == "outlook" else url)
    text = MIMEText(note + block + quoted, "plain", charset)
    if html:
        body = MIMEMultipart("alternative")
        body.attach(text)
        block_html = block.replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>\n")
        markup = (
            f"<html><body><div>{note.replace(chr(10), '<br>')}</div>"
            f"<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p>{block_html}</p></div>"
            + PHISH_HTML.format(url=url, pixel=drill_url("o") + ".gif", trap=drill_url("x")).removeprefix(
                "<html><body>"
            )
        )
        body.attach(MIMEText(markup, "html", "utf-8"))
    else:
        body = text
    if attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for name, data in attachments:
            part = MIMEApplication(data)
            part.add_header("Content-Disposition", "attachment", filename=name)
            mixed.attach(part)
        body = mixed
    prefix = "FW: " if client == "outlook" else "Fwd: "
    return envelope(body, prefix + PHISH_SUBJECT)


def envelope(message, subject: str):
    message["From"] = formataddr((str(Header("山田 太郎", "iso-2022-jp")), REPORTER))
    message["To"] = REPORT_ADDRESS
    message["Subject"] = Header(subject, "iso-2022-jp")
    message["Date"] = "Tue, 24 Nov 2026 10:03:00 +0900"
    message["Message-ID"] = "<report-1@city.example.lg.jp>"
    message["MIME-Version"] = "1.0"
    return as_bytes(message)


def zip_of(members: dict[str, bytes], *, cp932_names: bool = False) -> bytes:
    """A zip archive; ``cp932_names`` writes names as Japanese Windows' Explorer does (CP932, no UTF-8 flag)."""
    buffer = io.BytesIO()
    placeholders = {}
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, data) in enumerate(members.items()):
            written = name
            if cp932_names:
                # An ASCII stand-in of the same byte length, swapped for the CP932 bytes afterwards.
                written = f"{index:0{len(name.encode('cp932'))}d}"
                placeholders[written.encode("ascii")] = name.encode("cp932")
            archive.writestr(written, data)
    data = buffer.getvalue()
    for placeholder, name in placeholders.items():
        data = data.replace(placeholder, name)
    return data
