"""The organization's report mailbox (報告用メールボックス), polled over IMAP by the worker."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.lib.secrets_box import seal, unseal


class ReportMailbox(models.Model):
    class Security(models.TextChoices):
        TLS = "tls", _("IMAPS（TLS）")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("なし（ループバック・閉域網のみ）")

    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE, related_name="report_mailbox")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    host = models.CharField(_("IMAP サーバー"), max_length=253)
    port = models.PositiveIntegerField(_("ポート"), default=993)
    security = models.CharField(_("暗号化"), max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(_("ユーザー名"), max_length=200)
    # Encrypted at rest (mamori.lib.secrets_box) and never shown back; one of the two is used.
    sealed_password = models.TextField(blank=True)
    sealed_oauth2_token = models.TextField(blank=True)
    folder = models.CharField(_("受信フォルダー"), max_length=200, default="INBOX")
    processed_folder = models.CharField(_("処理済みフォルダー"), max_length=200, blank=True)
    error_folder = models.CharField(_("要確認フォルダー"), max_length=200, blank=True)
    enabled = models.BooleanField(_("有効"), default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The poller's claim (reporting.mailbox): one worker polls a mailbox at a time, and when it is next due.
    poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("報告用メールボックス")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"

    @property
    def password(self) -> str:
        return unseal(self.sealed_password) if self.sealed_password else ""

    @password.setter
    def password(self, value: str) -> None:
        self.sealed_password = seal(value) if value else ""

    @property
    def oauth2_token(self) -> str:
        return unseal(self.sealed_oauth2_token) if self.sealed_oauth2_token else ""

    @oauth2_token.setter
    def oauth2_token(self, value: str) -> None:
        self.sealed_oauth2_token = seal(value) if value else ""
