"""Test helpers for accounts: a confirmed TOTP device and the codes it shows."""

import pyotp
from django.utils import timezone

from mamori.accounts import mfa
from mamori.accounts.models import TOTPDevice


def make_device(user, *, confirmed: bool = True) -> TOTPDevice:
    device = TOTPDevice(user=user, confirmed_at=timezone.now() if confirmed else None)
    device.secret = pyotp.random_base32()
    device.save()
    return device


def code_for(device: TOTPDevice, *, steps_from_now: int = 0) -> str:
    """The code the authenticator app shows now (or ``steps_from_now`` 30-second steps away)."""
    return pyotp.TOTP(device.secret).generate_otp(mfa.current_step() + steps_from_now)
