"""A roster upload (名簿取込): validated on upload, applied by the worker after confirmation."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RosterImport(models.Model):
    class State(models.TextChoices):
        INVALID = "invalid", _("エラーあり")
        VALIDATED = "validated", _("確認待ち")
        QUEUED = "queued", _("取込待ち")
        RUNNING = "running", _("取込中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="roster_imports")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.VALIDATED, db_index=True)
    # The preview: counts of people to add / update / deactivate and the detected encoding.
    summary = models.JSONField(default=dict, blank=True)
    # Per-row errors: [{"row": 12, "column": "メール", "message": "…"}], in Japanese.
    errors = models.JSONField(default=list, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("名簿取込")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def progress_percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
