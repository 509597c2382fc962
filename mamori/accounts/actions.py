"""Every state change of accounts: login, MFA, password reset, API tokens, members.

Views, commands and tests call these; each records its audit entries.
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mamori.accounts import mfa, throttle
from mamori.accounts.models import APIToken, LoginFailure, TOTPDevice, User
from mamori.accounts.throttle import Lockout
from mamori.core.audit import record
from mamori.core.models import Department, Membership, Organization


def audit_for_user(action: str, user: User | None, *, request: HttpRequest | None = None, actor=None, **fields):
    """Record ``action`` once per organization of ``user``, so each organization's admins see it.

    An unknown user, or one without any membership, gets a single entry without organization.
    """
    organizations = list(Organization.objects.filter(memberships__user=user).distinct()) if user else []
    for organization in organizations or [None]:
        record(action, organization=organization, actor=actor, request=request, **fields)


def find_user(identifier: str) -> User | None:
    """The user named by a username or an email address; None if unknown or ambiguous."""
    identifier = identifier.strip()
    if not identifier:
        return None
    exact = User.objects.filter(username=identifier).first()
    if exact is not None:
        return exact
    field = "email__iexact" if "@" in identifier else "username__iexact"
    matches = list(User.objects.filter(**{field: identifier})[:2])
    return matches[0] if len(matches) == 1 else None


def mfa_required(user: User) -> bool:
    """Holders of an MFA role must use TOTP; anyone who enrolled a device must pass it too."""
    return Membership.objects.filter(user=user, role__in=Membership.MFA_ROLES).exists() or mfa.has_confirmed_device(
        user
    )


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    lockout: Lockout | None = None
    needs_mfa: bool = False


def log_in(request: HttpRequest, identifier: str, password: str) -> LoginOutcome:
    """Check the password step of a login, honouring the lockout; log the user in on success.

    A user who owes MFA is logged in with the session not yet marked as MFA-verified; the
    middleware keeps them on the MFA pages until they pass.
    """
    user = find_user(identifier)
    key = throttle.account_key(user.username if user else identifier)
    lockout = throttle.lockout_for(request, key)
    if lockout:
        # Refused before the password is checked, so a locked account reveals nothing about it.
        return LoginOutcome(lockout=lockout)
    authenticated = authenticate(request, username=user.username if user else identifier, password=password)
    if authenticated is None:
        return LoginOutcome(lockout=_count_failure(request, key, user, identifier, LoginFailure.Stage.PASSWORD))
    auth_login(request, authenticated)
    throttle.clear_failures(key, stages=(LoginFailure.Stage.PASSWORD,))
    if mfa_required(authenticated):
        return LoginOutcome(user=authenticated, needs_mfa=True)
    throttle.clear_failures(key)
    audit_for_user("login.succeeded", authenticated, request=request, actor=authenticated, target=authenticated)
    return LoginOutcome(user=authenticated)


def _count_failure(request, key: str, user: User | None, identifier: str, stage: str) -> Lockout | None:
    lockout = throttle.record_failure(request, key, stage)
    action = "mfa.failed" if stage == LoginFailure.Stage.MFA else "login.failed"
    audit_for_user(action, user, request=request, actor=user, target=user or identifier[:150])
    if lockout:
        audit_for_user(
            "login.locked",
            user,
            request=request,
            actor=user,
            target=user or identifier[:150],
            per_address=lockout.per_address,
            until=lockout.until.isoformat(),
        )
    return lockout


@dataclass(frozen=True)
class MFAOutcome:
    passed: bool = False
    lockout: Lockout | None = None


def verify_mfa(request: HttpRequest, user: User, code: str) -> MFAOutcome:
    """The second login step: a TOTP code (once only) or an unused recovery code."""
    key = throttle.account_key(user.username)
    lockout = throttle.lockout_for(request, key)
    if lockout:
        return MFAOutcome(lockout=lockout)
    device = mfa.confirmed_device(user)
    if device is not None and mfa.looks_like_totp(code) and mfa.accept_totp(device, code):
        audit_for_user("mfa.verified", user, request=request, actor=user, target=user)
    elif device is not None and mfa.use_recovery_code(user, code):
        audit_for_user(
            "mfa.recovery_code_used",
            user,
            request=request,
            actor=user,
            target=user,
            remaining=mfa.unused_recovery_codes(user),
        )
    else:
        return MFAOutcome(lockout=_count_failure(request, key, user, user.username, LoginFailure.Stage.MFA))
    _complete_mfa_login(request, user)
    return MFAOutcome(passed=True)


def _complete_mfa_login(request: HttpRequest, user: User) -> None:
    mfa.mark_session_verified(request)
    throttle.clear_failures(throttle.account_key(user.username))
    audit_for_user("login.succeeded", user, request=request, actor=user, target=user, mfa=True)


def start_enrolment(user: User) -> TOTPDevice:
    """The user's device awaiting confirmation, with a fresh seed if there is none yet."""
    device = TOTPDevice.objects.filter(user=user).first()
    if device is None:
        device = TOTPDevice(user=user)
        device.secret = mfa.new_secret()
        device.save()
    return device


@transaction.atomic
def confirm_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a current code; return the new recovery codes, to be shown once."""
    if device.is_confirmed or not mfa.accept_totp(device, code):
        return None
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    codes = mfa.replace_recovery_codes(device.user)
    audit_for_user("mfa.enrolled", device.user, request=request, actor=device.user, target=device.user)
    # Enrolling during login proves the second factor as well as verifying would.
    if not mfa.session_passed_mfa(request):
        _complete_mfa_login(request, device.user)
    return codes


def regenerate_recovery_codes(request: HttpRequest, user: User, code: str) -> list[str] | None:
    """New recovery codes (the old ones stop working) against a current TOTP code."""
    device = mfa.confirmed_device(user)
    if device is None or not mfa.accept_totp(device, code):
        return None
    codes = mfa.replace_recovery_codes(user)
    audit_for_user("mfa.recovery_codes_regenerated", user, request=request, actor=user, target=user)
    return codes


def reset_own_mfa(request: HttpRequest, code: str) -> bool:
    """The user removes their own device, proving it with a current code or an unused recovery code."""
    user = request.user
    device = mfa.confirmed_device(user)
    if device is None:
        return False
    proven = mfa.accept_totp(device, code) if mfa.looks_like_totp(code) else mfa.use_recovery_code(user, code)
    if proven:
        reset_mfa(user, by=user, request=request)
    return proven


@transaction.atomic
def reset_mfa(user: User, *, by: User | None = None, request: HttpRequest | None = None) -> None:
    """Remove the user's device and recovery codes: a lost phone, or the user re-enrolling.

    A user holding an MFA role is sent to enrolment on their next page.
    """
    TOTPDevice.objects.filter(user=user).delete()
    user.recovery_codes.all().delete()
    audit_for_user("mfa.reset", user, request=request, actor=by, target=user)
    if request is not None and request.user == user:
        request.session.pop(mfa.SESSION_MFA_KEY, None)


def record_password_reset_request(request: HttpRequest, email: str, users: list[User]) -> None:
    for user in users:
        audit_for_user("password_reset.requested", user, request=request, actor=user, target=user)
    if not users:
        record("password_reset.requested", organization=None, request=request, target=email[:150], unknown=True)


def complete_password_reset(request: HttpRequest, user: User) -> None:
    # Whoever holds the mailbox could reset anyway, so the password lockout protects nothing more here.
    throttle.clear_failures(throttle.account_key(user.username), stages=(LoginFailure.Stage.PASSWORD,))
    audit_for_user("password_reset.completed", user, request=request, actor=user, target=user)


def record_password_change(request: HttpRequest, user: User) -> None:
    audit_for_user("password.changed", user, request=request, actor=user, target=user)


def create_api_token(request: HttpRequest, organization: Organization, name: str) -> tuple[APIToken, str]:
    """Issue a token for the requesting user in ``organization``; the plaintext is returned once."""
    token, plaintext = APIToken.issue(user=request.user, organization=organization, name=name)
    record("token.created", organization=organization, request=request, target=token)
    return token, plaintext


def revoke_api_token(request: HttpRequest, token: APIToken) -> None:
    revoked = APIToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        record("token.revoked", organization=token.organization, request=request, target=token)


@dataclass(frozen=True)
class MemberAdded:
    user: User
    user_created: bool
    membership_created: bool
    # Set only when a new user without email got a random password, which the operator passes on.
    password: str | None = None


@transaction.atomic
def add_member(
    username: str,
    organization: Organization,
    role: str,
    *,
    email: str = "",
    department: Department | None = None,
) -> MemberAdded:
    """Give ``username`` a role in ``organization``, creating the user if needed."""
    user = User.objects.filter(username=username).first()
    password = None
    user_created = user is None
    if user is None:
        user = User(username=username, email=email)
        generated = secrets.token_urlsafe(15)
        user.set_password(generated)
        user.save()
        # With an address the user sets their own password by reset mail; without, the operator hands it over.
        password = None if email else generated
    elif email and not user.email:
        user.email = email
        user.save(update_fields=["email"])
    _, membership_created = Membership.objects.get_or_create(
        user=user, organization=organization, role=role, defaults={"department": department}
    )
    if membership_created:
        record(
            "member.added",
            organization=organization,
            target=user,
            role=role,
            department=department.path if department else "",
        )
    return MemberAdded(user=user, user_created=user_created, membership_created=membership_created, password=password)
