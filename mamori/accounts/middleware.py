from urllib.parse import urlencode

from django.shortcuts import redirect

from mamori.accounts.mfa import SESSION_MFA_KEY

# Paths a user who still owes the TOTP step may reach: the MFA pages themselves, logout, static files,
# the language switch, and the API (authenticated by tokens, which are issued only after MFA).
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/")


class MFARequiredMiddleware:
    """Holders of security_admin, csirt or joint_admin see nothing until TOTP is set up and passed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not request.session.get(SESSION_MFA_KEY)
            and request.tenancy.needs_mfa
        ):
            device = getattr(request.user, "totp_device", None)
            target = "accounts:mfa-verify" if device is not None and device.is_confirmed else "accounts:mfa-setup"
            response = redirect(target)
            response["Location"] += "?" + urlencode({"next": request.get_full_path()})
            return response
        return self.get_response(request)
