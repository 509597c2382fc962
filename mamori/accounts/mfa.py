"""TOTP multi-factor authentication: who needs it, how a code is checked and how a session proves it."""

import hmac
import secrets

import pyotp
import segno
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from mamori.accounts.models import RecoveryCode, TOTPDevice, User, hash_code

# Set in the session once the user has passed the TOTP (or recovery code) step in this session.
SESSION_MFA_KEY = "mfa_verified_at"

ISSUER = "mamori"
STEP_SECONDS = 30
# Codes of the previous and next 30-second step are accepted too: phone clocks drift.
ACCEPTED_STEPS = (-1, 0, 1)
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: the codes are written down on paper and typed back in.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def session_passed_mfa(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_MFA_KEY))


def mark_session_verified(request: HttpRequest) -> None:
    """Record the passed MFA step under a new session key (the pre-MFA key may have been observed)."""
    request.session.cycle_key()
    request.session[SESSION_MFA_KEY] = timezone.now().isoformat()


def provisioning_uri(device: TOTPDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.username, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> SafeString:
    """The URI as an inline SVG QR code (no style attributes, so the CSP needs no 'unsafe-inline')."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, light="#fff", svgclass="qr-code", title=title)
    # segno escapes the title and emits only paths; the markup carries no user input besides the title.
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308


def current_step() -> int:
    return int(timezone.now().timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str) -> int | None:
    """The time step whose code equals ``code`` within the accepted window, else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = current_step()
    for offset in ACCEPTED_STEPS:
        if hmac.compare_digest(totp.generate_otp(now + offset), code):
            return now + offset
    return None


def accept_totp(device: TOTPDevice, code: str) -> bool:
    """True if ``code`` is valid now and newer than the last accepted one (each code works once).

    The conditional UPDATE makes two simultaneous submissions of one code accept exactly one.
    """
    step = matching_step(device.secret, code)
    if step is None:
        return False
    accepted = TOTPDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
    if accepted:
        device.last_used_step = step
    return bool(accepted)


def normalize_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").casefold()


def looks_like_totp(code: str) -> bool:
    compact = "".join(code.split())
    return len(compact) == 6 and compact.isdigit()


def format_recovery_code(raw: str) -> str:
    half = RECOVERY_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


@transaction.atomic
def replace_recovery_codes(user: User) -> list[str]:
    """Discard the user's recovery codes and return new ones; only their hashes are stored."""
    user.recovery_codes.all().delete()
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=hash_code(code)) for code in codes)
    return [format_recovery_code(code) for code in codes]


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused recovery code; the conditional UPDATE lets each code succeed once only."""
    normalized = normalize_recovery_code(code)
    if len(normalized) != RECOVERY_CODE_LENGTH:
        return False
    spent = RecoveryCode.objects.filter(user=user, code_hash=hash_code(normalized), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return spent > 0


def unused_recovery_codes(user: User) -> int:
    return user.recovery_codes.filter(used_at__isnull=True).count()


def grouped_secret(secret: str) -> str:
    """The base32 seed in groups of four, for typing into an authenticator app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def new_secret() -> str:
    return pyotp.random_base32()
