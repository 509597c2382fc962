"""What staff file on the report page: 5W1H incident reports, near misses (ヒヤリハット), and the response
drills that ask a person and their manager (上長) to file a 5W1H report.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimePrecision(models.TextChoices):
    """How well a time is known: reporters often know only the hour or the day (or nothing).

    Shared by the 5W1H report and the CSIRT case (``mamori.incidents``), which copies the report's times.
    """

    EXACT = "exact", _("分まで分かる")
    HOUR = "hour", _("何時ごろか分かる")
    DAY = "day", _("日付だけ分かる")
    UNKNOWN = "unknown", _("分からない")


class IncidentReport(models.Model):
    """A 5W1H report (いつ・どこで・誰が・何を・どうなった) and what the reporter has done so far.

    ``identified_by`` says how the reporter is known. An address typed on the page that is not in the
    roster is kept as written and marked unverified, for triage to judge: the page never tells a stranger
    whether an address exists.
    """

    WhenPrecision = TimePrecision

    class Identification(models.TextChoices):
        ROSTER_EMAIL = "roster_email", _("職場のメールアドレス（名簿で確認）")
        PERSONAL_LINK = "personal_link", _("個人用の報告リンク")
        DELIVERY_LINK = "delivery_link", _("訓練メールのリンク")
        UNVERIFIED = "unverified", _("未確認の報告者")

    class FirstAction(models.TextChoices):
        """The first-5-minutes actions the reporter may already have taken (最初の5分)."""

        STOPPED = "stopped", _("操作をやめ、画面はそのままにした")
        KEPT_POWER = "kept_power", _("再起動・シャットダウンはしていない")
        NO_ANTIVIRUS = "no_antivirus", _("自分でウイルス対策ソフトを実行していない")
        KEPT_MAIL = "kept_mail", _("メールを削除せずに残している")
        UNPLUGGED = "unplugged", _("LANケーブルを抜いた・Wi-Fiを切った")
        TOLD_MANAGER = "told_manager", _("上長に伝えた")
        TOLD_IT = "told_it", _("情報システム課に連絡した")
        CHANGED_PASSWORD = "changed_password", _("パスワードを変更した")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(_("いつ"), null=True, blank=True)
    occurred_precision = models.CharField(
        _("いつ（確かさ）"), max_length=8, choices=WhenPrecision.choices, default=WhenPrecision.UNKNOWN
    )
    where = models.CharField(_("どこで"), max_length=200, blank=True)
    who = models.CharField(_("誰が"), max_length=200, blank=True)
    what = models.TextField(_("何を"), blank=True)
    outcome = models.TextField(_("どうなった"), blank=True)
    actions_taken = models.JSONField(_("これまでにしたこと"), default=list, blank=True)
    actions_note = models.TextField(_("これまでにしたこと（自由記述）"), blank=True)
    identified_by = models.CharField(max_length=14, choices=Identification.choices)
    reporter = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_reports"
    )
    reporter_email = models.EmailField(_("報告者メール"), max_length=254, blank=True)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The drill mail being reported, when the page was opened from the teachable moment (?token=…).
    delivery = models.ForeignKey(
        "drills.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_reports"
    )
    # The pasted or uploaded suspicious mail, stored through the one ingest path.
    suspicious_mail = models.ForeignKey(
        "reporting.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_reports"
    )
    client_address = models.CharField(max_length=45, blank=True)
    submitted_at = models.DateTimeField(_("報告日時"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["organization", "submitted_at"], name="incident_report_org_idx")]
        verbose_name = _("5W1H報告")
        verbose_name_plural = _("5W1H報告")

    def __str__(self) -> str:
        return f"{self.get_identified_by_display()} {self.submitted_at:%Y-%m-%d %H:%M}"

    # The parts a complete report has: the five W's and "what have you done so far".
    COMPLETENESS_PARTS = 6

    def filled_parts(self) -> int:
        """How many of いつ・どこで・誰が・何を・どうなった and the actions so far are filled."""
        parts = [
            self.occurred_precision != self.WhenPrecision.UNKNOWN and self.occurred_at is not None,
            bool(self.where.strip()),
            bool(self.who.strip()),
            bool(self.what.strip()),
            bool(self.outcome.strip()),
            bool(self.actions_taken or self.actions_note.strip()),
        ]
        return sum(parts)

    def action_labels(self) -> list[str]:
        labels = dict(self.FirstAction.choices)
        return [str(labels[key]) for key in self.actions_taken if key in labels]


class NearMiss(models.Model):
    """A near miss (ヒヤリハット): something that almost went wrong. Anonymous ones keep the department only."""

    class Kind(models.TextChoices):
        WRONG_RECIPIENT = "wrong_recipient", _("宛先を間違えそうになった")
        WRONG_ATTACHMENT = "wrong_attachment", _("添付ファイルを間違えそうになった")
        ALMOST_CLICKED = "almost_clicked", _("不審なリンクや添付を開きそうになった")
        ALMOST_ENTERED = "almost_entered", _("パスワードなどを入力しそうになった")
        ALMOST_LOST = "almost_lost", _("USBメモリや書類をなくしそうになった")
        OTHER = "other", _("その他")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("どんなこと"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("内容"), blank=True)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("所属")
    )
    anonymous = models.BooleanField(_("匿名"), default=False)
    reporter = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="near_misses"
    )
    reporter_email = models.EmailField(max_length=254, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["organization", "submitted_at"], name="near_miss_org_idx")]
        verbose_name = _("ヒヤリハット")
        verbose_name_plural = _("ヒヤリハット")

    def __str__(self) -> str:
        return self.get_kind_display()


class ResponseDrill(models.Model):
    """A drill of the response itself (支援策① 主な取組①): people and their managers file 5W1H reports."""

    class Scenario(models.TextChoices):
        ATTACHMENT_EXECUTED = "attachment_executed", _("添付ファイルを実行してしまった")
        SUSPICIOUS_TRAFFIC = "suspicious_traffic", _("不審な通信を検知")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scenario = models.CharField(_("想定"), max_length=20, choices=Scenario.choices)
    title = models.CharField(_("名称"), max_length=120, blank=True)
    started_at = models.DateTimeField(_("開始日時"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("終了日時"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("初動対応訓練")
        verbose_name_plural = _("初動対応訓練")

    def __str__(self) -> str:
        return self.title or self.get_scenario_display()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ResponseDrillParticipant(models.Model):
    """One person in a response drill: their report, their manager's, and 情報システム課's acknowledgement.

    The manager is frozen at the start: the roster may change while the drill runs.
    """

    drill = models.ForeignKey(ResponseDrill, on_delete=models.CASCADE, related_name="participants")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey("core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    manager_notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.CharField(max_length=500, blank=True)
    person_report = models.OneToOneField(
        IncidentReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manager_report = models.OneToOneField(
        IncidentReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("情報システム課の受領"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["person__name_kana", "person__name"]
        constraints = [models.UniqueConstraint(fields=["drill", "person"], name="one_participant_per_drill")]
        verbose_name = _("初動対応訓練の対象者")

    def __str__(self) -> str:
        return f"{self.drill} / {self.person}"
