"""What recipients did with a drill mail: every hit kept, append-only, and classified person / automated."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One hit on a drill link, pixel, attachment, form or reply. Rows are only ever inserted by the hit path.

    ``automated`` is None until the classifier has looked at the hit (it needs what happens after it: the
    landing page's confirmation beacon, hits on the trap link, other tokens hit from the same address);
    KPIs count ``automated=False`` only, and the raw counts stay visible beside them.
    """

    class Kind(models.TextChoices):
        CLICK = "click", _("リンクのクリック")
        QR_SCAN = "qr_scan", _("QRコードの読み取り")
        OPEN = "open", _("開封（HTMLの画像）")
        ATTACHMENT = "attachment", _("添付ファイルを開いた")
        SUBMIT = "submit", _("フォームへの入力")
        TRAP = "trap", _("隠しリンク（自動アクセス）")
        CONFIRM = "confirm", _("ページ表示の確認")
        REPLY = "reply", _("返信")

    # Kinds that count as the person failing the drill (when made by a person).
    FAILURE_KINDS = frozenset({Kind.CLICK, Kind.QR_SCAN, Kind.ATTACHMENT, Kind.SUBMIT, Kind.REPLY})

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey("drills.Delivery", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    # Where the hit came from within its kind: "url", "qr", "pdf", "docx", "html", "download", "mailbox"…
    source = models.CharField(max_length=20, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    # Stored per Organization.event_address_policy: full, truncated or empty.
    client_address = models.CharField(max_length=45, blank=True)
    # For a form submit: the names of the fields that were filled, never their values.
    filled_fields = models.JSONField(default=list, blank=True)
    automated = models.BooleanField(null=True, default=None)
    reasons = models.JSONField(default=list, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["delivery", "at"], name="event_delivery_at_idx"),
            models.Index(
                fields=["classified_at"], name="event_unclassified_idx", condition=models.Q(classified_at=None)
            ),
            models.Index(fields=["client_address", "at"], name="event_address_at_idx"),
        ]
        verbose_name = _("訓練イベント")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M:%S}"
