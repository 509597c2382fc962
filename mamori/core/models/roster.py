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
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="roster_uploads"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="roster_confirmations"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=255)
    # The file itself, kept while it may still be applied (the worker re-validates it at apply time).
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.VALIDATED, db_index=True)
    # The preview: format, counts to add / update / reactivate / deactivate, samples; "result" once applied.
    summary = models.JSONField(default=dict, blank=True)
    # Per-row errors: [{"row": 12, "column": "メール", "message": "…"}], in Japanese; the first 1,000 only.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
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
    def in_progress(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}

    @property
    def deactivates_many(self) -> bool:
        """True when the preview would deactivate a tenth or more of the current staff: often a partial file."""
        counts = self.summary.get("counts") or {}
        deactivating = counts.get("deactivate", 0)
        current_staff = deactivating + counts.get("update", 0) + counts.get("unchanged", 0)
        return deactivating > 0 and deactivating * 10 >= current_staff

    @property
    def counts(self) -> dict:
        """What was done (once applied) or what the preview says will be done."""
        return self.summary.get("result") or self.summary.get("counts") or {}
