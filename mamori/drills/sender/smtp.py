"""SMTP for drill mail: one connection per batch, one transaction per recipient, failures sorted.

A failure is one of three kinds, which decide what happens to the delivery:

- permanent (a 5xx reply to MAIL, RCPT or DATA): the delivery fails with the server's reply;
- temporary (a 4xx reply): the delivery is tried again later;
- connection (refused, timed out, TLS or login failed, dropped, 421): tried again later, and the
  connection is not used again.
"""

import contextlib
import functools
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mamori.drills.models import SendingProfile

# Long enough for a slow relay, short enough that a hung one frees the worker well inside its lease.
SMTP_TIMEOUT_SECONDS = 30
LEADING_DOT = re.compile(rb"(?m)^\.")
FORBIDDEN_IN_PATH = re.compile(r"[\s<>]")
# The replies that let a pipelined transaction go on: to MAIL, to RCPT, to DATA.
PIPELINED_REPLIES = ((250,), (250, 251), (354,))


@dataclass(frozen=True)
class SendFailure:
    """Why a mail did not go: ``description`` is Japanese and ends up in ``Delivery.last_error``."""

    permanent: bool
    connection_lost: bool
    description: str


class TransactionRefused(smtplib.SMTPResponseException):
    """The server answered MAIL, RCPT or DATA with an error (``smtp_code``, ``smtp_error``)."""


def helo_name(profile: SendingProfile) -> str:
    """The name we greet with: the envelope sender's domain if set (relays check it is a FQDN)."""
    if profile.envelope_sender:
        return profile.envelope_sender.rsplit("@", 1)[-1]
    # gethostname, not getfqdn: the latter may wait seconds on a reverse DNS lookup.
    return socket.gethostname()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs; made once (loading the CA store takes ~50 ms)."""
    return ssl.create_default_context()


def open_connection(profile: SendingProfile, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> smtplib.SMTP:
    """Connect, greet, secure (STARTTLS or TLS, certificates verified) and log in as the profile says."""
    name = helo_name(profile)
    if profile.security == SendingProfile.Security.TLS:
        connection = smtplib.SMTP_SSL(
            profile.host, profile.port, local_hostname=name, timeout=timeout, context=tls_context()
        )
    else:
        connection = smtplib.SMTP(profile.host, profile.port, local_hostname=name, timeout=timeout)
    try:
        connection.ehlo()
        if profile.security == SendingProfile.Security.STARTTLS:
            connection.starttls(context=tls_context())
            connection.ehlo()
        if profile.username:
            connection.login(profile.username, profile.password)
    except BaseException:
        close_quietly(connection)
        raise
    return connection


def close_quietly(connection: smtplib.SMTP | None) -> None:
    """QUIT if the server still listens; a dead connection is simply dropped."""
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def transmit(connection: smtplib.SMTP, envelope_sender: str, recipient: str, content: bytes) -> str:
    """One SMTP transaction (MAIL, RCPT, DATA); returns the server's final reply, e.g. "250 2.0.0 Ok".

    ``smtplib.SMTP.sendmail`` does the same but drops the reply, which the test send shows the admin, and
    knows no PIPELINING. After a refusal the transaction is reset (or the connection closed on 421).
    """
    if connection.has_extn("pipelining"):
        return transmit_pipelined(connection, envelope_sender, recipient, content)
    try:
        code, reply = connection.mail(envelope_sender)
        if code == 250:
            code, reply = connection.rcpt(recipient)
            if code in (250, 251):
                code, reply = connection.data(content)
                if code == 250:
                    return reply_text(code, reply)
    except smtplib.SMTPDataError as error:  # DATA itself refused (no 354)
        code, reply = error.smtp_code, error.smtp_error
    if code == 421:
        connection.close()
    else:
        reset_quietly(connection)
    raise TransactionRefused(code, reply)


def transmit_pipelined(connection: smtplib.SMTP, envelope_sender: str, recipient: str, content: bytes) -> str:
    """The same transaction with PIPELINING (RFC 2920): MAIL, RCPT and DATA go out together.

    Two round trips a mail instead of four: waiting for replies is most of what a mail costs the worker.
    """
    connection.send(f"MAIL FROM:{path(envelope_sender)}\r\nRCPT TO:{path(recipient)}\r\nDATA\r\n")
    replies = [connection.getreply() for _command in PIPELINED_REPLIES]
    refused = next(
        ((code, reply) for (code, reply), wanted in zip(replies, PIPELINED_REPLIES, strict=True) if code not in wanted),
        None,
    )
    if refused is None:
        connection.send(dot_stuffed(content) + b".\r\n")
        code, reply = connection.getreply()
        if code == 250:
            return reply_text(code, reply)
    else:
        code, reply = refused
        if replies[-1][0] == 354:
            # DATA was accepted although MAIL or RCPT was not (a non-conforming server): end it empty.
            connection.send(b".\r\n")
            connection.getreply()
    if code == 421:
        connection.close()
    else:
        reset_quietly(connection)
    raise TransactionRefused(code, reply)


def path(address: str) -> str:
    """``<address>`` for MAIL FROM and RCPT TO.

    The addresses were validated when stored (roster, profile, scenario), so they are not parsed again
    (``smtplib.quoteaddr`` parses each one: a tenth of a mail's cost); a space, line break or angle bracket
    is still refused, as a permanent failure of this mail.
    """
    if FORBIDDEN_IN_PATH.search(address):
        raise TransactionRefused(553, b"5.1.3 invalid address (refused by mamori)")
    return f"<{address}>"


def dot_stuffed(content: bytes) -> bytes:
    """Message bytes for DATA: a leading dot doubled on every line, ending with CRLF (RFC 5321 §4.5.2)."""
    stuffed = LEADING_DOT.sub(b"..", content)
    return stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"


def reset_quietly(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()


def reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def classify(error: Exception) -> SendFailure:
    """Sort an exception raised while connecting or sending into the three kinds above."""
    if isinstance(error, TransactionRefused):
        reply = reply_text(error.smtp_code, error.smtp_error)
        if error.smtp_code == 421:
            return SendFailure(False, True, _("サーバーが接続を終了しました: %(reply)s") % {"reply": reply})
        if 500 <= error.smtp_code < 600:
            return SendFailure(True, False, _("サーバーが受け取りを拒否しました: %(reply)s") % {"reply": reply})
        return SendFailure(False, False, _("サーバーが一時的に受け付けませんでした: %(reply)s") % {"reply": reply})
    return SendFailure(False, True, connection_problem(error))


def connection_problem(error: Exception) -> str:
    """A Japanese description of a failure to reach, secure or log in to the server."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        reply = reply_text(error.smtp_code, error.smtp_error)
        return _("SMTP 認証に失敗しました（ユーザー名・パスワードを確認してください）: %(reply)s") % {"reply": reply}
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return _("サーバーが必要な機能（STARTTLS または認証）に対応していません: %(detail)s") % {"detail": error}
    if isinstance(error, smtplib.SMTPResponseException):
        reply = reply_text(error.smtp_code, error.smtp_error)
        return _("サーバーが接続時にエラーを返しました: %(reply)s") % {"reply": reply}
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return _("TLS の確立に失敗しました（証明書またはポートと暗号化の組み合わせを確認してください）: %(detail)s") % {
            "detail": error
        }
    if isinstance(error, TimeoutError):
        return _("SMTP サーバーが時間内に応答しませんでした。")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return _("SMTP サーバーとの接続が切れました: %(detail)s") % {"detail": error}
    if isinstance(error, socket.gaierror):
        return _("SMTP サーバーの名前を解決できません: %(detail)s") % {"detail": error}
    if isinstance(error, OSError):
        return _("SMTP サーバーに接続できません: %(detail)s") % {"detail": error}
    return _("送信中にエラーが発生しました: %(detail)s") % {"detail": error}
