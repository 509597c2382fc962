"""Drill scenarios (訓練シナリオ): the mail a person receives and the cues that should have warned them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scenario(models.Model):
    """A drill mail template. ``organization`` is empty for the built-in library, which wards copy and edit.

    Subject and bodies are Jinja2 templates rendered in a sandbox with an explicit context
    (``mamori.drills.rendering``); they are checked when saved, so a broken template never reaches a sender.
    """

    class LureType(models.TextChoices):
        LINK = "link", _("リンク")
        CREDENTIAL_FORM = "credential_form", _("認証情報の入力")
        ATTACHMENT = "attachment", _("添付ファイル")
        QR_CODE = "qr_code", _("QRコード")
        REPLY_BAIT = "reply_bait", _("返信の誘導")

    class PremiseAlignment(models.TextChoices):
        # NIST Phish Scale: how well the premise fits the recipients' work.
        LOW = "low", _("低い")
        MEDIUM = "medium", _("中程度")
        HIGH = "high", _("高い")

    class AttachmentMode(models.TextChoices):
        # Sanitising gateways (無害化) strip files, so a download link is the default.
        LINK = "link", _("ダウンロードリンク")
        PDF = "pdf", _("PDF を添付")
        DOCX = "docx", _("Word 文書を添付")
        HTML = "html", _("HTML ファイルを添付")

    organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="scenarios"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stable key of a built-in library scenario (e.g. "soumu-tsutatsu"); empty for a ward's own.
    library_key = models.SlugField(max_length=60, blank=True)
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    name = models.CharField(_("シナリオ名"), max_length=120)
    subject = models.CharField(_("件名"), max_length=300)
    sender_name = models.CharField(_("差出人名"), max_length=120)
    sender_address = models.EmailField(_("差出人アドレス"), max_length=254)
    text_body = models.TextField(_("本文（テキスト）"))
    html_body = models.TextField(_("本文（HTML）"), blank=True)
    lure_type = models.CharField(_("誘導の種類"), max_length=20, choices=LureType.choices, default=LureType.LINK)
    threat_tags = models.JSONField(_("脅威タグ"), default=list, blank=True)
    # Red-flag cues shown on the teachable moment: [{"label": "差出人のドメイン", "detail": "…", "excerpt": "…"}]
    cues = models.JSONField(_("見抜くための手がかり"), default=list, blank=True)
    # NIST Phish Scale cue count: every cue of the mail, of which ``cues`` lists the ones worth teaching.
    # Empty = the number of listed cues.
    cue_count = models.PositiveSmallIntegerField(_("手がかりの総数"), null=True, blank=True)
    premise_alignment = models.CharField(
        _("業務との整合性"), max_length=10, choices=PremiseAlignment.choices, default=PremiseAlignment.MEDIUM
    )
    attachment_mode = models.CharField(
        _("添付の方式"), max_length=10, choices=AttachmentMode.choices, default=AttachmentMode.LINK
    )
    attachment_name = models.CharField(_("添付ファイル名"), max_length=120, blank=True)
    # The text of the generated document (a Jinja2 template like the bodies); it always ends with the
    # recipient's attachment link, so opening the document and following it is recorded.
    attachment_body = models.TextField(_("添付文書の本文"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived = models.BooleanField(_("アーカイブ済み"), default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library_key"],
                condition=models.Q(organization__isnull=True) & ~models.Q(library_key=""),
                name="unique_library_scenario",
            )
        ]
        verbose_name = _("訓練シナリオ")
        verbose_name_plural = _("訓練シナリオ")

    def __str__(self) -> str:
        return self.name

    @property
    def is_library(self) -> bool:
        return self.organization_id is None

    @property
    def difficulty(self):
        """Detection difficulty (難/中/易) by the NIST Phish Scale."""
        from mamori.drills.phish_scale import scenario_difficulty

        return scenario_difficulty(self)
