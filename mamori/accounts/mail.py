"""Mail sent to account holders. Each mail type is one function with three templates:
``<name>-subject.txt``, ``<name>-body.txt`` and ``<name>-body.html`` under ``templates/accounts/mail/``.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from mamori.accounts.models import User


def _send(name: str, to: str, context: dict) -> None:
    # Mail goes out in the site language whatever language the requesting page was shown in.
    with translation.override(settings.LANGUAGE_CODE):
        prefix = f"accounts/mail/{name}"
        subject = "".join(render_to_string(f"{prefix}-subject.txt", context).splitlines()).strip()
        message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{prefix}-body.txt", context), to=[to])
        message.attach_alternative(render_to_string(f"{prefix}-body.html", context), "text/html")
    message.send()


def send_password_reset(user: User, uidb64: str, token: str) -> None:
    """The one-time link to set a new password, valid for PASSWORD_RESET_TIMEOUT."""
    path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uidb64, "token": token})
    _send(
        "password-reset",
        user.email,
        {
            "user": user,
            "reset_url": settings.SITE_URL + path,
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "site_url": settings.SITE_URL,
        },
    )
