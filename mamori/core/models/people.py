"""The HR roster: departments (部›課›係) and staff (職員). Staff need no login to be drilled or to report."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Separator of department paths in rosters and in Department.path: 「総務部/総務課/文書係」.
PATH_SEPARATOR = "/"


class Department(models.Model):
    """A node of the organization's tree (部›課›係).

    ``path`` is materialised so that a sub-tree is one indexed prefix query.
    """

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="departments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("名称"), max_length=100)
    path = models.CharField(_("所属パス"), max_length=400)
    depth = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("有効"), default=True)

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["organization", "path"], name="unique_department_path")]
        verbose_name = _("所属")
        verbose_name_plural = _("所属")

    def __str__(self) -> str:
        return self.path.replace(PATH_SEPARATOR, " › ")

    @property
    def level_label(self) -> str:
        return [_("部"), _("課"), _("係")][min(self.depth, 2)]

    def subtree_filter(self, prefix: str = "department__") -> models.Q:
        """Q matching this department and everything below it."""
        return models.Q(**{f"{prefix}path": self.path}) | models.Q(
            **{f"{prefix}path__startswith": self.path + PATH_SEPARATOR}
        )


class Person(models.Model):
    """A staff member (職員) from the HR roster. Never hard-deleted: drill and report history must survive."""

    class EmploymentType(models.TextChoices):
        REGULAR = "regular", _("正規")
        FISCAL_YEAR = "fiscal_year", _("会計年度任用")
        DISPATCHED = "dispatched", _("派遣")
        CONTRACTOR = "contractor", _("委託先")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="people")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employee_number = models.CharField(_("職員番号"), max_length=30)
    name = models.CharField(_("氏名"), max_length=100)
    name_kana = models.CharField(_("かな"), max_length=100, blank=True)
    email = models.EmailField(_("メール"), max_length=254)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        verbose_name=_("所属"),
    )
    position = models.CharField(_("役職"), max_length=60, blank=True)
    employment_type = models.CharField(
        _("雇用区分"), max_length=20, choices=EmploymentType.choices, default=EmploymentType.REGULAR
    )
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("上長"),
    )
    active = models.BooleanField(_("在籍"), default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name_kana", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "employee_number"], name="unique_employee_number"),
            models.UniqueConstraint(fields=["organization", "email"], name="unique_person_email"),
        ]
        indexes = [models.Index(fields=["organization", "active"])]
        verbose_name = _("職員")
        verbose_name_plural = _("職員")

    def __str__(self) -> str:
        return self.name
