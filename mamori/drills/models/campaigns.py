"""Campaigns (訓練実施回) and their deliveries: one per person, the sending queue itself."""

import datetime
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.drills.fiscal import round_label


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("下書き")
        SCHEDULED = "scheduled", _("予約済み")
        SENDING = "sending", _("送信中")
        RUNNING = "running", _("実施中")
        # The context tells these states from the actions 「終了」「中止」 (English: Closed vs End, Canceled vs Cancel).
        CLOSED = "closed", pgettext_lazy("訓練実施回の状態", "終了")
        CANCELLED = "cancelled", pgettext_lazy("訓練実施回の状態", "中止")

    class Assignment(models.TextChoices):
        RANDOM = "random", _("ランダム")
        BALANCED = "balanced", _("均等（所属ごとに偏らない）")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="campaigns")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    round_number = models.PositiveSmallIntegerField(_("回"))
    title = models.CharField(_("名称"), max_length=120, blank=True)
    scenarios = models.ManyToManyField("drills.Scenario", related_name="campaigns", verbose_name=_("シナリオ"))
    assignment = models.CharField(
        _("シナリオの割り当て"), max_length=10, choices=Assignment.choices, default=Assignment.BALANCED
    )
    # Audience: active staff of these departments (with sub-trees), narrowed by position and employment
    # type when given, plus explicit people, minus exclusions. Empty departments = the whole organization.
    audience_departments = models.ManyToManyField("core.Department", blank=True, related_name="+")
    audience_positions = models.JSONField(default=list, blank=True)
    audience_employment_types = models.JSONField(default=list, blank=True)
    included_people = models.ManyToManyField("core.Person", blank=True, related_name="+")
    excluded_people = models.ManyToManyField("core.Person", blank=True, related_name="+")
    starts_on = models.DateField(_("開始日"))
    ends_on = models.DateField(_("終了日"))
    business_hours_start = models.TimeField(_("送信開始時刻"), default=datetime.time(9, 0))
    business_hours_end = models.TimeField(_("送信終了時刻"), default=datetime.time(17, 0))
    sending_profile = models.ForeignKey(
        "drills.SendingProfile", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("送信設定")
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fiscal_year", "-round_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "round_number"], name="unique_campaign_round"
            )
        ]
        verbose_name = _("訓練実施回")
        verbose_name_plural = _("訓練実施回")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.round_label} {self.title}".strip()

    @property
    def round_label(self) -> str:
        return round_label(self.fiscal_year, self.round_number)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


def new_delivery_token() -> str:
    """128 bits from the OS's CSPRNG, URL-safe, 22 characters: short enough to type from a plain-text mail."""
    return secrets.token_urlsafe(16)


class Delivery(models.Model):
    """One drill mail to one person in one campaign; also the sending queue row (state + lease)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("送信待ち")
        SENT = "sent", _("送信済み")
        FAILED = "failed", _("送信失敗")
        CANCELLED = "cancelled", _("取消")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="deliveries")
    scenario = models.ForeignKey("drills.Scenario", on_delete=models.PROTECT, related_name="deliveries")
    token = models.CharField(max_length=32, unique=True, default=new_delivery_token, editable=False)
    # The address it went to, frozen at launch: the roster may change later.
    email = models.EmailField(max_length=254)
    scheduled_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # First *human* events, written by the classifier (never by the hit path, which only inserts an Event).
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    first_scanned_at = models.DateTimeField(null=True, blank=True)
    first_attachment_at = models.DateTimeField(null=True, blank=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    first_replied_at = models.DateTimeField(null=True, blank=True)
    # Reporting (the reporting app): the first report by the recipient, and whether someone else reported it.
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="one_delivery_per_person")]
        indexes = [
            models.Index(fields=["state", "scheduled_at"], name="delivery_due_idx"),
            # The sender's "anything left queued in this campaign?" check and per-campaign progress counts.
            models.Index(fields=["campaign", "state"], name="delivery_campaign_state_idx"),
        ]
        verbose_name = _("配信")

    def __str__(self) -> str:
        return f"{self.campaign} → {self.email}"
