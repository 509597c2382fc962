from urllib.parse import urlencode

from django.shortcuts import redirect

from mamori.accounts import mfa

# Paths a user who still owes the TOTP step may reach: login, logout, the MFA pages, password reset,
# static files, the language switch, the API (authenticated by tokens, which are issued only after MFA),
# and the drill links (mamori.drills.tracking: no login, no session; a staff member who also administers
# mamori must be recorded like everyone). The account security page is *not* exempt: API tokens are
# created there.
EXEMPT_PREFIXES = (
    "/c/",
    "/q/",
    "/a/",
    "/o/",
    "/x/",
    "/cf/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/mfa/",
    "/accounts/password/reset/",
    "/static/",
    "/i18n/",
    "/api/",
)


class MFARequiredMiddleware:
    """Until the session has passed TOTP, send users who owe it to enrolment or verification.

    Holders of security_admin, csirt or joint_admin owe it always (they enrol first); anyone else
    owes it once they have enrolled a device of their own accord.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and not is_exempt(request.path) and not mfa.session_passed_mfa(request):
            step = pending_mfa_step(request)
            if step is not None:
                response = redirect(step)
                response["Location"] += "?" + urlencode({"next": request.get_full_path()})
                return response
        return self.get_response(request)


# Pages staff reach from a mail or an LGWAN terminal without an account: the teachable moment and landing
# pages (/l/<token>/…, but not the admin pages under /l/manage/) and the staff report pages (/report/…).
RECIPIENT_PREFIXES = ("/l/", "/report/")
RECIPIENT_ADMIN_PREFIXES = ("/l/manage/",)


def is_exempt(path: str) -> bool:
    if path.startswith(EXEMPT_PREFIXES):
        return True
    return path.startswith(RECIPIENT_PREFIXES) and not path.startswith(RECIPIENT_ADMIN_PREFIXES)


def pending_mfa_step(request) -> str | None:
    """The MFA page this session must pass first, or None when the user owes no MFA.

    Costs one indexed query on requests of sessions without MFA; sessions that passed it cost nothing.
    """
    if mfa.has_confirmed_device(request.user):
        return "accounts:mfa-verify"
    if request.tenancy.needs_mfa:
        return "accounts:mfa-setup"
    return None
