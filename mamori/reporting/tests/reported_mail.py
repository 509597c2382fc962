"""Building report mails for the pipeline tests: a suspicious message, and a staff member's forward of it."""

import itertools
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from mamori.drills.links import click_url

_numbers = itertools.count(1)


def suspicious_mail(
    *,
    subject: str = "【重要】アカウントの確認をお願いします",
    sender: str = "support@evil-login.example",
    urls: tuple[str, ...] = ("https://evil-login.example/verify",),
    reply_to: str = "",
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"サポート窓口 <{sender}>"
    message["To"] = "staff@city-a.lg.jp"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="evil-login.example")
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content("お客様\n\n次のリンクから確認してください。\n" + "\n".join(urls) + "\n")
    if attachment:
        name, content = attachment
        message.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return message


def drill_mail(delivery, *, subject: str = "【総務課】通達の件") -> EmailMessage:
    """The drill as the recipient received it: its click link carries the delivery token."""
    return suspicious_mail(subject=subject, sender="soumu@example-lookalike.jp", urls=(click_url(delivery.token),))


def forward(original: EmailMessage, *, by: str, to: str = "report@city-a.lg.jp") -> bytes:
    """``by`` forwards ``original`` as an attachment (message/rfc822), as Outlook's 添付ファイルとして転送."""
    report = EmailMessage(policy=policy.SMTP)
    report["From"] = by
    report["To"] = to
    report["Subject"] = "FW: " + str(original["Subject"])
    report["Date"] = format_datetime(timezone.now())
    report["Message-ID"] = f"<report-{next(_numbers)}@city-a.lg.jp>"
    report.set_content("不審なメールが届いたので報告します。\n")
    report.add_attachment(original)
    return report.as_bytes()
