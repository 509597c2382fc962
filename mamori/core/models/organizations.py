"""Organizations (wards, the joint body, partners), their verified mail domains and who may act for them."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

organization_code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,39}$", _("組織コードは英小文字・数字・ハイフンで2〜40文字にしてください。")
)


class Organization(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward", _("区")
        JOINT = "joint", _("共同組織")
        PARTNER = "partner", _("連携先")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("組織コード"), max_length=40, unique=True, validators=[organization_code_validator])
    name = models.CharField(_("名称"), max_length=100)
    name_kana = models.CharField(_("名称（かな）"), max_length=100, blank=True)

    class AddressPolicy(models.TextChoices):
        FULL = "full", _("そのまま記録する")
        TRUNCATED = "truncated", _("末尾を伏せて記録する（IPv4 は /24、IPv6 は /48）")
        NONE = "none", _("記録しない")

    kind = models.CharField(_("種別"), max_length=10, choices=Kind.choices, default=Kind.WARD)
    # Privacy: how the client address of drill events (clicks, scans, submits) is stored.
    event_address_policy = models.CharField(
        _("訓練イベントの接続元アドレス"),
        max_length=10,
        choices=AddressPolicy.choices,
        default=AddressPolicy.TRUNCATED,
    )
    # Where staff report (shown on the teachable moment and the report page) and the organization's own
    # first-response rules (最初の5分), one per line; empty = the seed's default rules.
    report_contact = models.CharField(_("報告窓口"), max_length=200, blank=True)
    first_response_rules = models.TextField(_("初動対応のルール"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("組織")
        verbose_name_plural = _("組織")

    def __str__(self) -> str:
        return self.name

    def accepts_email(self, email: str) -> bool:
        """True if the address is in one of this organization's verified mail domains."""
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in self.verified_domain_names()

    def verified_domain_names(self) -> set[str]:
        return set(self.domains.filter(verified_at__isnull=False).values_list("domain", flat=True))


class VerifiedDomain(models.Model):
    """A mail domain the organization owns; drills and roster entries are limited to these."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    domain = models.CharField(_("ドメイン"), max_length=253)
    verified_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(fields=["organization", "domain"], name="unique_domain_per_org")]
        verbose_name = _("確認済みドメイン")

    def __str__(self) -> str:
        return self.domain


class Membership(models.Model):
    """A user's role in one organization (DESIGN.md §4); a user may hold several roles."""

    class Role(models.TextChoices):
        SECURITY_ADMIN = "security_admin", _("セキュリティ管理者")
        CSIRT = "csirt", _("CSIRT")
        DEPT_MANAGER = "dept_manager", _("所属長")
        AUDITOR = "auditor", _("監査担当")
        JOINT_ADMIN = "joint_admin", _("共同管理者")
        VENDOR = "vendor", _("委託先")

    # Roles whose holders must use TOTP before they see anything.
    MFA_ROLES = frozenset({Role.SECURITY_ADMIN, Role.CSIRT, Role.JOINT_ADMIN})
    # Roles that work inside the organization's own pages; vendors use the vendor portal only.
    INTERNAL_ROLES = frozenset(set(Role) - {Role.VENDOR})
    # Roles that administer the organization's settings, roster, members and audit log.
    ADMIN_ROLES = frozenset({Role.SECURITY_ADMIN})

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    # dept_manager sees this department and its sub-tree only.
    department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="unique_role_per_user_org")
        ]
        verbose_name = _("メンバー")

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} / {self.get_role_display()}"
