"""The report mailbox (報告用メールボックス): staff forward suspicious mail there, the worker ingests it.

One worker at a time polls a mailbox (a lease claimed with a conditional UPDATE). A turn:

1. Connect (IMAPS, STARTTLS, or plain on a loopback/closed network) and log in with the password or an
   OAuth2 access token (XOAUTH2).
2. Select the folder and search for what is not filed yet: not \\Deleted, without ``$MamoriDone`` or
   ``$MamoriError``. Whatever is still there after a crash is simply found again.
3. Work through it in batches of UIDs: fetch, skip mail whose exact bytes are already stored (a crash
   between storing and filing re-fetches at most the batch in flight and ingests nothing twice), store the
   rest's originals in one transaction, then process each (``process_report``: parse, match, cluster,
   thank — the batch's thanks over one SMTP connection).
4. File the batch: ingested mail is flagged \\Seen ``$MamoriDone`` and moved to the processed folder (MOVE,
   or COPY + \\Deleted + UID EXPUNGE where MOVE is missing; only flagged when no processed folder is set).
   Mail whose ingestion raised is flagged \\Flagged ``$MamoriError`` and moved to the error folder: kept,
   never deleted, and written to the audit log for a person.

A connection or server error ends the turn: it is logged, kept in ``ReportMailbox.last_error`` for the
settings page and retried at the next poll. A database outage propagates to the worker loop, and the lease
runs out so another round retries.
"""

import datetime
import hashlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser

from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mamori.core import worker
from mamori.core.audit import record
from mamori.core.models import AuditEntry
from mamori.lib.mailparse import MAX_MESSAGE_BYTES
from mamori.reporting import mail
from mamori.reporting.actions import ingest_message, process_report, store_originals
from mamori.reporting.models import OriginalMessage, Report, ReportMailbox

logger = logging.getLogger(__name__)

DONE = "$MamoriDone"
ERROR = "$MamoriError"
# Polled this often when there was nothing to do: a forwarded report is thanked within about this long.
POLL_INTERVAL = datetime.timedelta(seconds=15)
# Renewed after every batch; a worker that died frees its mailboxes after this long.
LEASE = datetime.timedelta(minutes=2)
# One turn's budget: a large backlog is worked through in several turns, so the worker's other handlers
# (the drill sender) still get theirs.
TURN_BUDGET = datetime.timedelta(seconds=20)
BATCH_SIZE = 50
# Bodies fetched together: a batch of 20 MB attachments is fetched a few at a time.
FETCH_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 30
CONNECTION_ERRORS = (IMAPClientError, OSError)
MAX_ERROR_LENGTH = 500
FAILED_ACTION = "reporting.mailbox_message_failed"


# --- Connecting --------------------------------------------------------------------------------------------


def tls_context() -> ssl.SSLContext:
    """The system's trusted CAs (SSL_CERT_FILE adds a ward's own CA), certificate and host name checked."""
    return ssl.create_default_context()


def plain_allowed(host: str) -> bool:
    """Plain IMAP only to this machine or a private address (a closed network such as LGWAN)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


class PlainConnectionRefused(OSError):
    """Plain IMAP was configured for a server on an open network."""


def connect(mailbox: ReportMailbox, *, timeout: float = TIMEOUT_SECONDS) -> IMAPClient:
    """An IMAP connection to the mailbox, secured as configured, logged in."""
    security = mailbox.security
    if security == ReportMailbox.Security.NONE and not plain_allowed(mailbox.host):
        raise PlainConnectionRefused(
            _("暗号化なしで接続できるのは、ループバックかプライベートアドレスのサーバーだけです。")
        )
    implicit_tls = security == ReportMailbox.Security.TLS
    client = IMAPClient(
        mailbox.host,
        port=mailbox.port,
        ssl=implicit_tls,
        ssl_context=tls_context() if implicit_tls else None,
        timeout=timeout,
    )
    try:
        if security == ReportMailbox.Security.STARTTLS:
            client.starttls(tls_context())
        if mailbox.sealed_oauth2_token:
            client.oauth2_login(mailbox.username, mailbox.oauth2_token)
        else:
            client.login(mailbox.username, mailbox.password)
    except BaseException:
        close_quietly(client)
        raise
    # Aware INTERNALDATE values: the server's arrival time becomes the report's received_at.
    client.normalise_times = False
    return client


def close_quietly(client: IMAPClient | None) -> None:
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            logger.debug("closing the IMAP connection failed", exc_info=True)


def describe(error: BaseException) -> str:
    """What went wrong, for a person, in Japanese; the server's own words are quoted."""
    answer = str(error).strip()
    if isinstance(error, PlainConnectionRefused):
        return answer
    if isinstance(error, LoginError):
        return _("ログインできませんでした（サーバーの応答: %(answer)s）") % {"answer": answer}
    if isinstance(error, ssl.SSLCertVerificationError):
        return _("サーバー証明書を検証できませんでした: %(reason)s") % {"reason": error.verify_message or answer}
    if isinstance(error, ssl.SSLError):
        return _("TLS で接続できませんでした: %(reason)s") % {"reason": answer}
    if isinstance(error, socket.gaierror):
        return _("ホスト名を解決できませんでした。")
    if isinstance(error, ConnectionRefusedError):
        return _("接続を拒否されました。ホスト名・ポート・ファイアウォールを確認してください。")
    if isinstance(error, TimeoutError | socket.timeout):
        return _("サーバーから応答がありません（タイムアウト）。")
    if isinstance(error, IMAPClientError):
        return _("サーバーがエラーを返しました: %(answer)s") % {"answer": answer}
    return _("接続できませんでした: %(reason)s") % {"reason": answer or type(error).__name__}


# --- Settings page ---------------------------------------------------------------------------------------


def save_mailbox(form, *, by, request=None) -> ReportMailbox:
    """Save the settings from ``ReportMailboxForm``; the mailbox is due at once, so a fix shows quickly.

    An existing row is updated field by field: the poll lease a worker may hold right now stays its own.
    """
    mailbox = form.save(commit=False)
    created = mailbox.pk is None
    mailbox.next_poll_at = None
    mailbox.last_error = ""
    if created:
        mailbox.save()
    else:
        settings_fields = [*form.Meta.fields, "sealed_password", "sealed_oauth2_token", "next_poll_at", "last_error"]
        mailbox.save(update_fields=settings_fields)
    record(
        "reporting.mailbox_saved",
        organization=mailbox.organization,
        actor=by,
        request=request,
        target=str(mailbox),
        created=created,
        changed=[name for name in form.changed_data if name != "secret"],
        secret_changed=form.secret_changed,
    )
    return mailbox


def recent_failures(mailbox: ReportMailbox, limit: int = 20):
    """The mail this organization's poller could not ingest, newest first (kept in the error folder)."""
    return AuditEntry.objects.filter(organization=mailbox.organization_id, action=FAILED_ACTION)[:limit]


# --- Connection test (settings page) -----------------------------------------------------------------------


@dataclass
class ConnectionCheck:
    """What the connection test found, step by step; ``ok`` when the poller could work with this mailbox."""

    ok: bool = False
    steps: list[str] = field(default_factory=list)
    error: str = ""


def check_connection(mailbox: ReportMailbox, *, by, request=None) -> ConnectionCheck:
    """Connect, log in and open the folders as the poller would, read-only, and report each answer."""
    check = ConnectionCheck()
    client = None
    try:
        client = connect(mailbox)
        check.steps.append(_("接続しました（サーバーの挨拶: %(welcome)s）") % {"welcome": text_of(client.welcome)})
        check.steps.append(_("ログインしました（ユーザー: %(user)s）") % {"user": mailbox.username})
        selected = client.select_folder(mailbox.folder, readonly=True)
        waiting = len(client.search(unfiled_criteria()))
        check.steps.append(
            _("フォルダー「%(folder)s」を開きました（%(count)s 通、うち未処理 %(waiting)s 通）")
            % {"folder": mailbox.folder, "count": selected.get(b"EXISTS", 0), "waiting": waiting}
        )
        check.steps.extend(server_abilities(client, mailbox, selected))
        check.ok = True
    except CONNECTION_ERRORS as error:
        check.error = describe(error)
    finally:
        close_quietly(client)
    record(
        "reporting.mailbox_tested",
        organization=mailbox.organization,
        actor=by,
        request=request,
        target=str(mailbox),
        ok=check.ok,
        error=check.error[:MAX_ERROR_LENGTH],
    )
    return check


def server_abilities(client: IMAPClient, mailbox: ReportMailbox, selected: dict) -> list[str]:
    notes = []
    if client.has_capability("MOVE"):
        notes.append(_("MOVE に対応しています。処理したメールはそのまま移動します。"))
    else:
        notes.append(_("MOVE に対応していないため、コピーしてから元のメールを削除済みにします。"))
    if keywords_allowed(selected):
        notes.append(_("キーワード（%(done)s・%(error)s）を付けられます。") % {"done": DONE, "error": ERROR})
    elif not (mailbox.processed_folder and mailbox.error_folder):
        notes.append(
            _("このサーバーはキーワードを保存できません。処理済みフォルダーと要確認フォルダーを設定してください。")
        )
    for folder in (mailbox.processed_folder, mailbox.error_folder):
        if folder and not client.folder_exists(folder):
            notes.append(_("フォルダー「%(folder)s」はまだありません。最初の処理で作成します。") % {"folder": folder})
    return notes


def text_of(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


# --- Polling -----------------------------------------------------------------------------------------------


def unfiled_criteria() -> list[str]:
    return ["NOT", "DELETED", "NOT", "KEYWORD", DONE, "NOT", "KEYWORD", ERROR]


def keywords_allowed(selected: dict) -> bool:
    """Whether the server keeps our own keywords (\\* among the folder's PERMANENTFLAGS)."""
    return b"\\*" in selected.get(b"PERMANENTFLAGS", ())


def poll_due_mailboxes() -> bool:
    """The worker handler: give each due mailbox one turn; True when some mail was handled."""
    handled = 0
    started = timezone.now()
    while not worker.stop_requested.is_set() and timezone.now() - started < TURN_BUDGET:
        mailbox = claim_due_mailbox()
        if mailbox is None:
            break
        handled += poll_mailbox(mailbox)
    return handled > 0


def due_mailboxes(now: datetime.datetime):
    return ReportMailbox.objects.filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now),
        Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now),
        enabled=True,
    )


def claim_due_mailbox() -> ReportMailbox | None:
    """Lease one due mailbox with a conditional UPDATE, so that two workers never poll the same one."""
    now = timezone.now()
    for candidate in due_mailboxes(now).select_related("organization").order_by("next_poll_at", "pk")[:10]:
        lease = now + LEASE
        if due_mailboxes(now).filter(pk=candidate.pk).update(poll_lease_until=lease):
            candidate.poll_lease_until = lease
            return candidate
    return None


def renew_lease(mailbox: ReportMailbox) -> bool:
    """Extend our lease; False when it ran out and another worker may have taken the mailbox."""
    lease = timezone.now() + LEASE
    renewed = ReportMailbox.objects.filter(pk=mailbox.pk, poll_lease_until=mailbox.poll_lease_until).update(
        poll_lease_until=lease
    )
    if renewed:
        mailbox.poll_lease_until = lease
    return bool(renewed)


def release(mailbox: ReportMailbox, *, error: str = "", backlog: bool = False) -> None:
    """End the turn: due again at once when mail was left, else after the poll interval."""
    now = timezone.now()
    ReportMailbox.objects.filter(pk=mailbox.pk, poll_lease_until=mailbox.poll_lease_until).update(
        poll_lease_until=None,
        next_poll_at=now if backlog else now + POLL_INTERVAL,
        last_polled_at=now,
        last_error=error[:MAX_ERROR_LENGTH],
    )


@dataclass
class Filing:
    """How this server and configuration file mail away, learnt once per turn."""

    keywords: bool
    can_move: bool
    uidplus: bool
    existing_folders: set[str] = field(default_factory=set)


def poll_mailbox(mailbox: ReportMailbox) -> int:
    """One turn on a leased mailbox; returns the number of messages handled (ingested, skipped or failed)."""
    started = timezone.now()
    client = None
    handled = 0
    backlog = False
    try:
        client = connect(mailbox)
        selected = client.select_folder(mailbox.folder)
        filing = Filing(
            keywords=keywords_allowed(selected),
            can_move=client.has_capability("MOVE"),
            uidplus=client.has_capability("UIDPLUS"),
        )
        if not filing.keywords and not (mailbox.processed_folder and mailbox.error_folder):
            release(
                mailbox,
                error=_(
                    "このサーバーはキーワードを保存できません。処理済みフォルダーと要確認フォルダーを設定してください。"
                ),
            )
            return 0
        uids = sorted(client.search(unfiled_criteria()))
        for batch in batches(uids, BATCH_SIZE):
            out_of_time = timezone.now() - started >= TURN_BUDGET
            if worker.stop_requested.is_set() or out_of_time or not renew_lease(mailbox):
                backlog = True
                break
            handled += process_batch(client, mailbox, filing, batch)
    except CONNECTION_ERRORS as error:
        logger.warning("report mailbox %s: %s", mailbox.public_id, error)
        release(mailbox, error=describe(error))
        return handled
    finally:
        close_quietly(client)
    release(mailbox, backlog=backlog)
    return handled


def batches(uids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


def process_batch(client: IMAPClient, mailbox: ReportMailbox, filing: Filing, uids: list[int]) -> int:
    """Ingest one batch and file it; a stop request files what is done and leaves the rest for later."""
    ingested: list[int] = []
    failed: list[int] = []
    metadata = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
    # Expunged by someone else since the search: nothing left to do for those.
    present = [uid for uid in uids if uid in metadata]
    too_large = [uid for uid in present if metadata[uid].get(b"RFC822.SIZE", 0) > MAX_MESSAGE_BYTES]
    for uid in too_large:
        record_failure(
            mailbox,
            uid,
            None,
            _("大きすぎるため取り込みませんでした（%(size)s バイト）。")
            % {"size": f"{metadata[uid][b'RFC822.SIZE']:,}"},
        )
    failed.extend(too_large)
    wanted = [uid for uid in present if uid not in too_large]
    # One SMTP connection for the batch's thanks mails.
    with mail.shared_connection():
        for group in fetch_groups(wanted, metadata):
            if worker.stop_requested.is_set():
                break
            bodies = client.fetch(group, ["BODY.PEEK[]"])
            done, broken = ingest_group(
                mailbox, [(uid, bodies[uid][b"BODY[]"]) for uid in group if uid in bodies], metadata
            )
            ingested.extend(done)
            failed.extend(broken)
    file_ingested(client, mailbox, filing, ingested)
    file_failed(client, mailbox, filing, failed)
    return len(ingested) + len(failed)


def fetch_groups(uids: list[int], metadata: dict) -> Iterator[list[int]]:
    """Consecutive groups of at most FETCH_BYTES together (a single larger message goes alone)."""
    group: list[int] = []
    size = 0
    for uid in uids:
        message_size = metadata[uid].get(b"RFC822.SIZE", 0)
        if group and size + message_size > FETCH_BYTES:
            yield group
            group, size = [], 0
        group.append(uid)
        size += message_size
    if group:
        yield group


def ingest_group(
    mailbox: ReportMailbox, messages: list[tuple[int, bytes]], metadata: dict
) -> tuple[list[int], list[int]]:
    """Store the group's new originals in one transaction, then process each; (ingested, failed) UIDs.

    The whole group is processed even when a stop is requested meanwhile: a stored original is skipped as
    done when fetched again, so it must not be left unprocessed by a planned stop.
    """
    stored = stored_digests(mailbox, [raw for _uid, raw in messages])
    new = [(uid, raw) for uid, raw in messages if hashlib.sha256(raw).hexdigest() not in stored]
    already = [uid for uid, raw in messages if hashlib.sha256(raw).hexdigest() in stored]
    if not new:
        return already, []
    try:
        reports = store_originals(
            mailbox.organization,
            [(raw, metadata[uid].get(b"INTERNALDATE") or timezone.now()) for uid, raw in new],
            channel=Report.Channel.MAILBOX,
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        # Whatever stopped the group's transaction, each message gets its own chance (and its own record).
        logger.exception("report mailbox %s: storing a group failed, storing one by one", mailbox.public_id)
        outcomes = [(uid, ingest_one(mailbox, uid, raw, metadata[uid])) for uid, raw in new]
    else:
        outcomes = [
            (uid, process_one(mailbox, uid, raw, report)) for (uid, raw), report in zip(new, reports, strict=True)
        ]
    ingested = already + [uid for uid, ok in outcomes if ok]
    return ingested, [uid for uid, ok in outcomes if not ok]


def stored_digests(mailbox: ReportMailbox, raws: list[bytes]) -> set[str]:
    """Which of these exact messages this organization's mailbox already stored (one query per group)."""
    digests = [hashlib.sha256(raw).hexdigest() for raw in raws]
    return set(
        OriginalMessage.objects.filter(
            sha256__in=digests, report__organization=mailbox.organization_id, report__channel=Report.Channel.MAILBOX
        ).values_list("sha256", flat=True)
    )


def ingest_one(mailbox: ReportMailbox, uid: int, raw: bytes, metadata: dict) -> bool:
    """Ingest one message; False (and a record for a person) when ingestion raised."""
    return guarded(
        mailbox,
        uid,
        raw,
        lambda: ingest_message(
            mailbox.organization, raw, channel=Report.Channel.MAILBOX, received_at=metadata.get(b"INTERNALDATE")
        ),
    )


def process_one(mailbox: ReportMailbox, uid: int, raw: bytes, report: Report) -> bool:
    """Process one message whose original is stored; False (and a record for a person) when that raised."""
    return guarded(mailbox, uid, raw, lambda: process_report(report, raw))


def guarded(mailbox: ReportMailbox, uid: int, raw: bytes, work) -> bool:
    """Run ``work`` for one message; False (and a record for a person) when it raised.

    A lost database connection is not the message's fault: it propagates, the mail stays unfiled and is
    fetched again once the database is back.
    """
    try:
        work()
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        logger.exception("report mailbox %s: ingesting UID %s failed", mailbox.public_id, uid)
        record_failure(mailbox, uid, raw, f"{type(error).__name__}: {error}")
        return False
    return True


def record_failure(mailbox: ReportMailbox, uid: int, raw: bytes | None, reason: str) -> None:
    """An audit entry a person finds on the mailbox page: which mail, where it is kept, and why."""
    headers = header_summary(raw) if raw is not None else {}
    record(
        FAILED_ACTION,
        organization=mailbox.organization,
        target=str(mailbox),
        uid=uid,
        folder=mailbox.error_folder or mailbox.folder,
        keyword=ERROR,
        reason=reason[:MAX_ERROR_LENGTH],
        **headers,
    )


def header_summary(raw: bytes) -> dict[str, str]:
    """From, Subject and Message-ID of a forward, as far as they can be read (the mail may be malformed)."""
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        return {
            name.lower().replace("-", "_"): str(headers.get(name, ""))[:300]
            for name in ("From", "Subject", "Message-ID")
        }
    except Exception:
        return {}


def file_ingested(client: IMAPClient, mailbox: ReportMailbox, filing: Filing, uids: list[int]) -> None:
    flags = [b"\\Seen", DONE.encode()] if filing.keywords else [b"\\Seen"]
    file_messages(client, filing, uids, flags=flags, folder=mailbox.processed_folder)


def file_failed(client: IMAPClient, mailbox: ReportMailbox, filing: Filing, uids: list[int]) -> None:
    flags = [b"\\Flagged", ERROR.encode()] if filing.keywords else [b"\\Flagged"]
    file_messages(client, filing, uids, flags=flags, folder=mailbox.error_folder)


def file_messages(client: IMAPClient, filing: Filing, uids: list[int], *, flags: list[bytes], folder: str) -> None:
    """Flag the messages, then move them to ``folder`` if one is set (creating it the first time)."""
    if not uids:
        return
    client.add_flags(uids, flags, silent=True)
    if not folder:
        return
    if folder not in filing.existing_folders:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        filing.existing_folders.add(folder)
    if filing.can_move:
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.delete_messages(uids, silent=True)
    # Without UIDPLUS only our own messages could not be expunged selectively: they stay \Deleted (and are
    # not searched again) until the mailbox's owner expunges.
    if filing.uidplus:
        client.uid_expunge(uids)
