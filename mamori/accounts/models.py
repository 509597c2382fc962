"""Users who log in (security staff, CSIRT, managers, auditors) and what secures their accounts.

Staff who are drilled or who report need no account: they are core.Person rows.
"""

import hashlib
import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.lib.secrets_box import seal, unseal


class User(AbstractUser):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class TOTPDevice(models.Model):
    """One authenticator app per user; the seed is encrypted at rest."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    sealed_secret = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last accepted 30-second step: a code is accepted once only (no replay).
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"TOTP ({self.user})"

    @property
    def secret(self) -> str:
        return unseal(self.sealed_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        self.sealed_secret = seal(value)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class RecoveryCode(models.Model):
    """Single-use codes for a lost phone; only their hashes are stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"])]

    def __str__(self) -> str:
        return f"recovery code ({self.user})"


class LoginFailure(models.Model):
    """A failed login, kept for throttling: per account (casefolded username) and per client address.

    Rows older than the lockout window are pruned; the audit log keeps the history.
    """

    class Stage(models.TextChoices):
        PASSWORD = "password", _("パスワード")
        MFA = "mfa", _("確認コード")

    username = models.CharField(max_length=150)
    client_address = models.CharField(max_length=45, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.PASSWORD)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginfailure_username_at"),
            models.Index(fields=["client_address", "at"], name="loginfailure_address_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class APIToken(models.Model):
    """A per-user API token scoped to one organization; the secret is shown once and stored hashed.

    The token reads ``mmr_<prefix>_<secret>``: the prefix finds the row by index, the hash proves it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名前"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (mmr_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, *, user: User, organization, name: str) -> tuple["APIToken", str]:
        """Create a token and return it with its plaintext, which is never stored."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, organization=organization, name=name, prefix=prefix, secret_hash=hash_code(secret)
        )
        return token, f"mmr_{prefix}_{secret}"
