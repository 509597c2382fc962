"""Learning: the look of the fake login page, and what a person learns after a drill.

``Module`` is something to learn (now: the teachable moment of one scenario); ``Assignment`` gives it to a
person (created when they reach the moment from a delivery); ``Completion`` records how it went. The
fake login page's look (``LandingPage``) lives here too, so that the drills app needs no migration for it.
"""

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("色は #1d4e89 のように # と16進数6桁で入力してください。"))


class LandingPage(models.Model):
    """The look of a credential-form scenario's fake login page (「職員ポータル」「統合認証」).

    A ward's own scenario may have one; the built-in library (read-only) and scenarios without one use
    the defaults below. Only these texts and three colours are editable: no logo, no script, no external
    resource, so the page can never carry a real organization's mark or load anything from outside.
    """

    DEFAULTS = {
        "page_title": "職員ポータル - ログイン",
        "system_name": "職員ポータル",
        "heading": "統合認証",
        "message": "職員IDとパスワードを入力して、ログインしてください。",
        "username_label": "職員ID",
        "password_label": "パスワード",
        "button_label": "ログイン",
        "footer": "パスワードを忘れた場合は、情報システム担当へお問い合わせください。",
        "header_colour": "#1d4e89",
        "button_colour": "#1d4e89",
        "background_colour": "#eef2f6",
    }

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    scenario = models.OneToOneField("drills.Scenario", on_delete=models.CASCADE, related_name="landing_page")
    # Named in the stylesheet URL of the page instead of the scenario, so the page reveals nothing of it.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    page_title = models.CharField(_("ブラウザのタブに出る題名"), max_length=80, default=DEFAULTS["page_title"])
    system_name = models.CharField(_("画面上部のシステム名"), max_length=60, default=DEFAULTS["system_name"])
    heading = models.CharField(_("見出し"), max_length=60, default=DEFAULTS["heading"])
    message = models.CharField(_("案内文"), max_length=200, blank=True, default=DEFAULTS["message"])
    username_label = models.CharField(_("ID欄の名前"), max_length=30, default=DEFAULTS["username_label"])
    password_label = models.CharField(_("パスワード欄の名前"), max_length=30, default=DEFAULTS["password_label"])
    button_label = models.CharField(_("ボタンの文字"), max_length=20, default=DEFAULTS["button_label"])
    footer = models.CharField(_("下部の注意書き"), max_length=200, blank=True, default=DEFAULTS["footer"])
    header_colour = models.CharField(
        _("上部の帯の色"), max_length=7, default=DEFAULTS["header_colour"], validators=[colour_validator]
    )
    button_colour = models.CharField(
        _("ボタンの色"), max_length=7, default=DEFAULTS["button_colour"], validators=[colour_validator]
    )
    background_colour = models.CharField(
        _("背景の色"), max_length=7, default=DEFAULTS["background_colour"], validators=[colour_validator]
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ログイン画面")

    def __str__(self) -> str:
        return f"{self.scenario} / {self.heading}"

    @property
    def has_custom_colours(self) -> bool:
        colours = ("header_colour", "button_colour", "background_colour")
        return any(getattr(self, name) != self.DEFAULTS[name] for name in colours)


class Module(models.Model):
    """Something a person learns. The teachable moment module is made per organization and scenario."""

    class Kind(models.TextChoices):
        TEACHABLE_MOMENT = "moment", _("訓練であることのお知らせ")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("種類"), max_length=10, choices=Kind.choices, default=Kind.TEACHABLE_MOMENT)
    scenario = models.ForeignKey(
        "drills.Scenario", null=True, blank=True, on_delete=models.CASCADE, related_name="learning_modules"
    )
    title = models.CharField(_("題名"), max_length=200)
    estimated_minutes = models.PositiveSmallIntegerField(_("目安の時間（分）"), default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "scenario"],
                condition=models.Q(scenario__isnull=False),
                name="one_module_per_scenario_kind",
            )
        ]
        verbose_name = _("学習モジュール")

    def __str__(self) -> str:
        return self.title


class Assignment(models.Model):
    """A module given to a person; for a teachable moment, made when they reach it from their delivery."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="learning_assignments")
    delivery = models.OneToOneField(
        "drills.Delivery", null=True, blank=True, on_delete=models.CASCADE, related_name="learning_assignment"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学習の割り当て")

    def __str__(self) -> str:
        return f"{self.module} → {self.person}"


class Completion(models.Model):
    """How one assignment went: when it started and ended, the time spent, the quiz answered.

    ``answers`` holds the keys of the chosen choices only (``{"cue": "cue", "report": "wait"}``), never
    free text. The first answered quiz is the one that counts: a later visit shows the result again and
    only adds reading time. ``seconds_spent`` adds up the gaps between a person's activities on the page
    (see ``mamori.learning.actions.note_activity``).
    """

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="completion")
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    visits = models.PositiveIntegerField(default=1)
    seconds_spent = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    quiz_score = models.PositiveSmallIntegerField(null=True, blank=True)
    quiz_questions = models.PositiveSmallIntegerField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "completed_at"], name="completion_org_done_idx")]
        verbose_name = _("学習の記録")

    def __str__(self) -> str:
        return f"{self.assignment} ({self.seconds_spent}s)"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
