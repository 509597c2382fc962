import logging

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from mamori.accounts import actions, mail

logger = logging.getLogger(__name__)


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("ユーザー名またはメールアドレス"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("パスワード"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class MFACodeForm(forms.Form):
    """A 6-digit code from the authenticator app, or (at login) a recovery code."""

    code = forms.CharField(
        label=_("確認コード"),
        max_length=32,
        help_text=_("認証アプリの6桁の数字、またはリカバリーコード"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, autofocus: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if autofocus:
            self.fields["code"].widget.attrs["autofocus"] = True


class TOTPCodeForm(forms.Form):
    """Exactly a 6-digit code from the authenticator app (no recovery codes)."""

    code = forms.RegexField(
        label=_("確認コード（6桁）"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": _("認証アプリに表示されている6桁の数字を入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class APITokenForm(forms.Form):
    name = forms.CharField(
        label=_("トークンの名前"),
        max_length=100,
        help_text=_("用途がわかる名前（例: 名簿連携スクリプト）"),
    )


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, sending our Japanese mail and writing the audit log.

    The page says the same thing whether or not the address exists.
    """

    email = forms.EmailField(
        label=_("メールアドレス"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, *, request=None, **kwargs) -> None:
        users = list(self.get_users(self.cleaned_data["email"]))
        actions.record_password_reset_request(request, self.cleaned_data["email"], users)
        super().save(request=request, **kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs) -> None:
        # A failing mail server must not turn into an error page only for addresses that exist.
        try:
            mail.send_password_reset(context["user"], context["uid"], context["token"])
        except Exception:
            logger.exception("password reset mail to user %s failed", context["user"].pk)
