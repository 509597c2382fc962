"""Suspicious-mail reports (不審メール報告), their kept originals and the triage clusters they join."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportCluster(models.Model):
    """One triage item: identical or near-identical reports from many staff, judged once."""

    class Verdict(models.TextChoices):
        PENDING = "pending", _("未判定")
        PHISHING = "phishing", _("フィッシング・攻撃")
        SPAM = "spam", _("迷惑メール")
        BENIGN = "benign", _("問題なし")
        DRILL = "drill", _("訓練メール")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The similarity keys (see reporting.clustering): normalised subject, sender address, URL set.
    subject_key = models.CharField(max_length=200, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    url_keys = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("件名"), max_length=500, blank=True)
    report_count = models.PositiveIntegerField(_("報告数"), default=0)
    reporter_count = models.PositiveIntegerField(_("報告者数"), default=0)
    first_reported_at = models.DateTimeField(default=timezone.now)
    last_reported_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(_("判定"), max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    verdict_note = models.TextField(_("メモ"), blank=True)
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdict_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_reported_at"]
        indexes = [
            models.Index(fields=["organization", "verdict", "last_reported_at"], name="cluster_queue_idx"),
            models.Index(fields=["organization", "subject_key"], name="cluster_subject_idx"),
            models.Index(fields=["organization", "sender"], name="cluster_sender_idx"),
        ]
        verbose_name = _("報告のまとまり")

    def __str__(self) -> str:
        return self.subject or str(self.public_id)


class Report(models.Model):
    """One report of a suspicious mail, from the mailbox, the report page, the API or the command.

    The original bytes are kept in ``OriginalMessage`` whatever happens; what the parser found is copied
    here so the triage pages never re-parse.
    """

    class Channel(models.TextChoices):
        MAILBOX = "mailbox", _("報告用メールボックス")
        PAGE = "page", _("報告ページ")
        API = "api", _("API（メールソフトのアドイン）")
        COMMAND = "command", _("コマンド（ingest-eml）")

    class State(models.TextChoices):
        DRILL = "drill", _("訓練メールの報告")
        TRIAGE = "triage", _("トリアージ待ち")
        TRIAGED = "triaged", _("判定済み")
        NEEDS_ATTENTION = "needs_attention", _("要確認（解析できず）")

    class ForwardedAs(models.TextChoices):
        ATTACHMENT = "attachment", _("添付として転送")
        INLINE = "inline", _("本文に転送")
        NONE = "none", _("転送形式なし")

    class Thanks(models.TextChoices):
        DRILL = "drill", _("訓練の報告へのお礼")
        CLICKED_DRILL = "clicked_drill", _("開いた後の訓練報告へのお礼")
        REAL = "real", _("報告へのお礼")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("経路"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("状態"), max_length=16, choices=State.choices)
    received_at = models.DateTimeField(_("受信日時"), default=timezone.now, db_index=True)
    # Who reported: the forwarding mail's From (or the page's / API's stated address), and the roster
    # entry it names in this organization, if any.
    reporter_email = models.EmailField(_("報告者メール"), max_length=254, blank=True)
    reporter = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="suspicious_mail_reports"
    )
    # The forwarding message itself (for idempotent mailbox polling and for the reply).
    envelope_message_id = models.CharField(max_length=998, blank=True)
    envelope_subject = models.CharField(max_length=500, blank=True)
    forwarded_as = models.CharField(max_length=10, choices=ForwardedAs.choices, default=ForwardedAs.NONE)
    # The reported (suspicious) message.
    subject = models.CharField(_("件名"), max_length=500, blank=True)
    from_address = models.CharField(_("差出人"), max_length=500, blank=True)
    reply_to = models.CharField(max_length=500, blank=True)
    return_path = models.CharField(max_length=500, blank=True)
    sent_date = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    # Header analysis: {"received": [...], "auth_results": {...}, "mismatches": [...]}.
    headers = models.JSONField(default=dict, blank=True)
    urls = models.JSONField(default=list, blank=True)
    domains = models.JSONField(default=list, blank=True)
    ips = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    # [{"name", "size", "sha256", "content_type"}]
    attachments = models.JSONField(default=list, blank=True)
    text_excerpt = models.TextField(blank=True)
    # What the parser could not handle (limits hit, undecodable parts); the report is still kept.
    problems = models.JSONField(default=list, blank=True)
    # Drill matching: the delivery its token names, whether the reporter is that delivery's recipient, and
    # time-to-report from sending and from the person's own first failure (click, scan, attachment…).
    delivery = models.ForeignKey(
        "drills.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    by_recipient = models.BooleanField(default=False)
    first_by_recipient = models.BooleanField(default=False)
    seconds_since_sent = models.PositiveIntegerField(null=True, blank=True)
    seconds_since_failure = models.PositiveIntegerField(null=True, blank=True)
    cluster = models.ForeignKey(ReportCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    thanks = models.CharField(max_length=14, choices=Thanks.choices, blank=True)
    thanked_at = models.DateTimeField(null=True, blank=True)
    thanks_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["organization", "state", "received_at"], name="report_state_idx"),
            models.Index(fields=["organization", "envelope_message_id"], name="report_envelope_idx"),
        ]
        verbose_name = _("不審メール報告")
        verbose_name_plural = _("不審メール報告")

    def __str__(self) -> str:
        return self.subject or self.envelope_subject or str(self.public_id)


class OriginalMessage(models.Model):
    """The bytes exactly as received: never lost, even when nothing could be parsed."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="original", primary_key=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("報告メールの原本")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} B)"
