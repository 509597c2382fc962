"""Sending profiles (送信設定): how a ward's drill mail leaves mamori."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.lib.secrets_box import seal, unseal


class SendingProfile(models.Model):
    class Security(models.TextChoices):
        NONE = "none", _("なし（ループバック・閉域網のみ）")
        STARTTLS = "starttls", _("STARTTLS")
        TLS = "tls", _("SMTPS（TLS）")

    class Charset(models.TextChoices):
        UTF8 = "utf-8", _("UTF-8")
        ISO2022JP = "iso-2022-jp", _("ISO-2022-JP（JIS）")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="sending_profiles")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名前"), max_length=100)
    host = models.CharField(_("SMTP サーバー"), max_length=253)
    port = models.PositiveIntegerField(_("ポート"), default=587)
    security = models.CharField(_("暗号化"), max_length=10, choices=Security.choices, default=Security.STARTTLS)
    username = models.CharField(_("ユーザー名"), max_length=200, blank=True)
    # Encrypted at rest (mamori.lib.secrets_box) and never shown back.
    sealed_password = models.TextField(blank=True)
    envelope_sender = models.EmailField(_("エンベロープ送信者"), max_length=254, blank=True)
    # Extra headers, e.g. [["X-Mamori-Drill", "1"]], so the gateway can allow-list drill mail.
    extra_headers = models.JSONField(_("追加ヘッダー"), default=list, blank=True)
    charset = models.CharField(_("文字コード"), max_length=12, choices=Charset.choices, default=Charset.UTF8)
    rate_per_minute = models.PositiveIntegerField(
        _("送信レート（通/分）"), default=600, help_text=_("0 は無制限（負荷試験用）")
    )
    # Off by default: a header naming the drill lets staff filter drills out; the token is in the URLs anyway.
    token_header = models.BooleanField(
        _("訓練識別ヘッダー（X-Mamori-Drill）を付ける"),
        default=False,
        help_text=_("ゲートウェイでの許可や報告との照合に使えますが、職員に訓練と見抜かれる手がかりにもなります。"),
    )
    # The rate limit's next free sending slot, shared by every worker: each reserves slots here before it
    # sends, so several workers together still honour rate_per_minute.
    paced_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("送信設定")

    def __str__(self) -> str:
        return self.name

    @property
    def password(self) -> str:
        return unseal(self.sealed_password) if self.sealed_password else ""

    @password.setter
    def password(self, value: str) -> None:
        self.sealed_password = seal(value) if value else ""
