"""CSIRT cases (インシデント対応事案), their append-only transitions, timeline, tasks, evidence and escalations.

Every change goes through ``mamori.incidents.actions``. Transitions, timeline entries and custody entries are
append-only: the time measures (MTTD/MTTA/MTTC/MTTR) are computed from them, never typed in.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.core.models.audit import AppendOnlyError
from mamori.drills.fiscal import JST
from mamori.reporting.models.forms import TimePrecision  # shared with the 5W1H report whose times a case copies


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk ``update()`` and ``delete()`` bypass ``Model.save``/``delete``: refuse them too.

    (Deleting a whole case still removes its rows: Django's cascade does not go through these methods.)
    """

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be changed")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AppendOnlyModel(models.Model):
    """A row that is written once: saving it again or deleting it, one by one or in bulk, raises
    ``AppendOnlyError``."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


class Case(models.Model):
    """One incident handled by a ward's CSIRT, from detection to close (and reopen)."""

    class State(models.TextChoices):
        NEW = "new", _("新規")
        TRIAGE = "triage", _("トリアージ")
        IN_PROGRESS = "in_progress", _("対応中")
        CONTAINED = "contained", _("封じ込め済み")
        ERADICATED = "eradicated", _("根絶済み")
        RECOVERED = "recovered", _("復旧済み")
        CLOSED = "closed", _("完了")

    class Category(models.TextChoices):
        TARGETED_MAIL = "targeted_mail", _("標的型メール")
        MALWARE = "malware", _("マルウェア感染")
        RANSOMWARE = "ransomware", _("ランサムウェア")
        UNAUTHORISED_ACCESS = "unauthorised_access", _("不正アクセス")
        DATA_LEAK = "data_leak", _("情報漏えい")
        LOSS_THEFT = "loss_theft", _("紛失・盗難（USB等）")
        MISDELIVERY = "misdelivery", _("誤送信")
        CONTRACTOR = "contractor", _("委託先事故")
        DOS = "dos", _("DoS")
        OTHER = "other", _("その他")

    class Severity(models.TextChoices):
        LOW = "low", _("低")
        MEDIUM = "medium", _("中")
        HIGH = "high", _("高")
        CRITICAL = "critical", _("重大")

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", _("対応完了")
        FALSE_POSITIVE = "false_positive", _("誤検知・問題なし")
        DUPLICATE = "duplicate", _("重複（別の事案で対応）")
        TRANSFERRED = "transferred", _("他機関へ引継ぎ")

    class TLP(models.TextChoices):
        """Traffic Light Protocol 2.0 (FIRST): how far recipients may share what they are told."""

        CLEAR = "CLEAR", "TLP:CLEAR"
        GREEN = "GREEN", "TLP:GREEN"
        AMBER = "AMBER", "TLP:AMBER"
        AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
        RED = "RED", "TLP:RED"

    class PersonalRecordKind(models.TextChoices):
        NAME_ADDRESS = "name_address", _("氏名・住所等")
        MY_NUMBER = "my_number", _("マイナンバー")
        SENSITIVE = "sensitive", _("要配慮個人情報")
        FINANCIAL = "financial", _("口座・カード情報")
        # A category the ward's own 条例 makes sensitive (条例要配慮個人情報, 個人情報保護法第60条第5項).
        ORDINANCE_SENSITIVE = "ordinance_sensitive", _("条例要配慮個人情報")
        OTHER = "other", _("その他")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The ward's own number for the case (「2026-0001」: fiscal year and a running number); shown, never in URLs.
    reference = models.CharField(_("事案番号"), max_length=20)
    title = models.CharField(_("件名"), max_length=200)
    category = models.CharField(_("分類"), max_length=24, choices=Category.choices, default=Category.OTHER)
    severity = models.CharField(_("深刻度"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    summary = models.TextField(_("概要"), blank=True)
    state = models.CharField(_("状態"), max_length=12, choices=State.choices, default=State.NEW)
    resolution = models.CharField(_("完了の理由"), max_length=16, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(_("完了時のまとめ"), blank=True)
    occurred_at = models.DateTimeField(_("発生日時"), null=True, blank=True)
    occurred_precision = models.CharField(
        _("発生日時（確かさ）"), max_length=8, choices=TimePrecision.choices, default=TimePrecision.UNKNOWN
    )
    detected_at = models.DateTimeField(_("検知日時"), default=timezone.now)
    detected_precision = models.CharField(
        _("検知日時（確かさ）"), max_length=8, choices=TimePrecision.choices, default=TimePrecision.EXACT
    )
    affected_departments = models.ManyToManyField(
        "core.Department", blank=True, related_name="+", verbose_name=_("影響を受けた所属")
    )
    affected_systems = models.JSONField(_("影響を受けたシステム"), default=list, blank=True)
    affected_people = models.ManyToManyField(
        "core.Person", blank=True, related_name="+", verbose_name=_("影響を受けた職員")
    )
    personal_records_count = models.PositiveIntegerField(_("個人情報の件数"), default=0)
    personal_record_kinds = models.JSONField(_("個人情報の種類"), default=list, blank=True)
    unauthorised_purpose = models.BooleanField(_("不正の目的によるおそれ"), default=False)
    service_outage_started_at = models.DateTimeField(_("サービス停止の開始"), null=True, blank=True)
    service_outage_ended_at = models.DateTimeField(_("サービス停止の終了"), null=True, blank=True)
    # Derived from the records count and the outage (see ``mamori.incidents.major.is_major``); stored so
    # that lists and measures can filter on it. Recomputed by every action that changes the case.
    is_major = models.BooleanField(_("重大インシデント"), default=False)
    reporter = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("報告者")
    )
    # Who reported when they are not in the roster (an outside caller, an unverified address).
    reporter_label = models.CharField(_("報告者（名簿外）"), max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("担当者"),
    )
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, default=TLP.AMBER_STRICT)
    source_cluster = models.ForeignKey(
        "reporting.ReportCluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    source_report = models.ForeignKey(
        "reporting.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    source_incident_report = models.ForeignKey(
        "reporting.IncidentReport", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Denormalised from the last transition, for listing; None while the case is open.
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="unique_case_reference"),
        ]
        indexes = [
            models.Index(fields=["organization", "state", "detected_at"], name="case_state_idx"),
            models.Index(fields=["organization", "detected_at"], name="case_detected_idx"),
            models.Index(fields=["organization", "category"], name="case_category_idx"),
        ]
        verbose_name = _("インシデント")
        verbose_name_plural = _("インシデント")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLOSED

    @property
    def involves_personal_data(self) -> bool:
        return self.personal_records_count > 0 or bool(self.personal_record_kinds)

    def personal_record_kind_labels(self) -> list[str]:
        labels = dict(self.PersonalRecordKind.choices)
        return [str(labels[kind]) for kind in self.personal_record_kinds if kind in labels]


class Transition(AppendOnlyModel):
    """One change of a case's state. The opening row (no ``from_state``) is dated at the detection time."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=12, choices=Case.State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=Case.State.choices)
    # Set on transitions to closed: why the case was closed.
    resolution = models.CharField(max_length=16, choices=Case.Resolution.choices, blank=True)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="transition_case_idx"),
            models.Index(fields=["to_state", "at"], name="transition_state_idx"),
        ]
        verbose_name = _("状態の変更")

    def __str__(self) -> str:
        return f"{self.from_state or '-'} → {self.to_state} {self.at:%Y-%m-%d %H:%M}"


class TimelineEntry(AppendOnlyModel):
    """Something that happened or was done, in the case's timeline. Corrections are new entries."""

    class Kind(models.TextChoices):
        OBSERVATION = "observation", _("観察")
        ACTION = "action", _("対応")
        CONTACT = "contact", _("連絡")
        DECISION = "decision", _("判断")
        CORRECTION = "correction", _("訂正")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(_("日時"))
    at_precision = models.CharField(
        _("日時（確かさ）"), max_length=8, choices=TimePrecision.choices, default=TimePrecision.EXACT
    )
    kind = models.CharField(_("種類"), max_length=12, choices=Kind.choices, default=Kind.OBSERVATION)
    text = models.TextField(_("内容"))
    # The entry this one corrects (entries are never edited).
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="corrections")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The ward, or the joint body when its CSIRT wrote the entry through an escalation.
    author_organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="timeline_case_idx")]
        verbose_name = _("時系列の記録")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class Task(models.Model):
    """Something to do in a case: from a playbook, the legal clock (個人情報保護委員会への報告) or by hand."""

    class Kind(models.TextChoices):
        PLAYBOOK = "playbook", _("手順書")
        LEGAL_PPC_PRELIMINARY = "legal_ppc_preliminary", _("個人情報保護委員会への速報")
        LEGAL_PPC_FINAL = "legal_ppc_final", _("個人情報保護委員会への確報")
        CUSTOM = "custom", _("個別")

    LEGAL_KINDS = frozenset({Kind.LEGAL_PPC_PRELIMINARY, Kind.LEGAL_PPC_FINAL})

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("作業"), max_length=200)
    detail = models.TextField(_("詳細"), blank=True)
    kind = models.CharField(_("種類"), max_length=24, choices=Kind.choices, default=Kind.CUSTOM)
    # The playbook step this task came from (``playbooks.Step.key``), so a category change adds only the
    # steps still missing.
    template_key = models.CharField(max_length=60, blank=True)
    position = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A legal task no longer needed because the case's data changed (kept, not deleted, for the record).
    cancelled_at = models.DateTimeField(_("不要になった日時"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "created_at", "id"]
        indexes = [models.Index(fields=["case", "done_at"], name="task_case_idx")]
        verbose_name = _("作業")

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.cancelled_at is None

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or timezone.now())


class Evidence(models.Model):
    """An item of evidence: a stored file (hashed server-side) or an item kept offline with its typed hash."""

    class Kind(models.TextChoices):
        MAIL = "mail", _("メール（.eml）")
        MEMORY = "memory", _("メモリイメージ")
        DISK = "disk", _("ディスクイメージ")
        LOG = "log", _("ログ")
        SCREENSHOT = "screenshot", _("画面の記録")
        DEVICE = "device", _("端末・媒体")
        DOCUMENT = "document", _("文書")
        OTHER = "other", _("その他")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(_("内容"), max_length=300)
    kind = models.CharField(_("種類"), max_length=12, choices=Kind.choices, default=Kind.OTHER)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("サイズ（バイト）"), null=True, blank=True)
    # True when mamori keeps the bytes (under DATA_DIR/evidence/<case>/<sha256>); False for offline items.
    stored = models.BooleanField(default=False)
    file_name = models.CharField(_("ファイル名"), max_length=255, blank=True)
    acquired_at = models.DateTimeField(_("取得日時"), null=True, blank=True)
    acquired_precision = models.CharField(
        _("取得日時（確かさ）"), max_length=8, choices=TimePrecision.choices, default=TimePrecision.EXACT
    )
    collector = models.CharField(_("取得者"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_by_organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "sha256"], name="unique_evidence_hash_per_case")]
        verbose_name = _("証拠")
        verbose_name_plural = _("証拠")

    def __str__(self) -> str:
        return self.description


class CustodyEntry(AppendOnlyModel):
    """One step in an evidence item's chain of custody (取得・引渡し・受領・解析・返却・廃棄)."""

    class Action(models.TextChoices):
        ACQUIRED = "acquired", _("取得")
        HANDED_OVER = "handed_over", _("引渡し")
        RECEIVED = "received", _("受領")
        ANALYSED = "analysed", _("解析")
        RETURNED = "returned", _("返却")
        DISPOSED = "disposed", _("廃棄")

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="custody")
    at = models.DateTimeField(_("日時"), default=timezone.now)
    action = models.CharField(_("内容"), max_length=12, choices=Action.choices)
    from_holder = models.CharField(_("渡した人"), max_length=200, blank=True)
    to_holder = models.CharField(_("受け取った人"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("メモ"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("保管の記録")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class Escalation(models.Model):
    """A ward's explicit, revocable grant letting a joint body (23区共同CSIRT) see and help with one case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    joint_organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "joint"},
        verbose_name=_("共同CSIRT"),
    )
    # What the grant shares beyond the case itself: affected people's and the reporter's names (off by
    # default: the joint body rarely needs them), and the evidence list with hashes.
    share_people = models.BooleanField(_("職員の氏名を共有する"), default=False)
    share_evidence = models.BooleanField(_("証拠の一覧を共有する"), default=True)
    note = models.TextField(_("依頼内容"), blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "joint_organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_escalation_per_joint_org",
            )
        ]
        indexes = [models.Index(fields=["joint_organization", "revoked_at"], name="escalation_joint_idx")]
        verbose_name = _("共同CSIRTへのエスカレーション")

    def __str__(self) -> str:
        return f"{self.case} → {self.joint_organization}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DutyContact(models.Model):
    """An on-duty contact (当番の連絡先) mailed on escalations and on the joint body's entries.

    With no weekdays and no hours the contact is on duty at all times.
    """

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名前"), max_length=100)
    email = models.EmailField(_("メールアドレス"), max_length=254)
    active = models.BooleanField(_("有効"), default=True)
    # ISO weekdays (1 = Monday … 7 = Sunday) in JST; empty = every day.
    weekdays = models.JSONField(_("曜日"), default=list, blank=True)
    hours_start = models.TimeField(_("開始時刻"), null=True, blank=True)
    hours_end = models.TimeField(_("終了時刻"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("当番の連絡先")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def is_on_duty(self, moment) -> bool:
        """True if ``moment`` falls in this contact's weekdays and hours (JST); hours may span midnight."""
        local = timezone.localtime(moment, JST)
        if self.weekdays and local.isoweekday() not in self.weekdays:
            return False
        if self.hours_start is None or self.hours_end is None:
            return True
        clock = local.time()
        if self.hours_start <= self.hours_end:
            return self.hours_start <= clock < self.hours_end
        return clock >= self.hours_start or clock < self.hours_end
