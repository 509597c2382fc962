"""The report mailbox settings form: server, login (password or OAuth2 token, write-only) and folders."""

import ipaddress
import re

from django import forms
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.reporting.mailbox import plain_allowed
from mamori.reporting.models import ReportMailbox

HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){HOST_LABEL}(?:\.{HOST_LABEL})*$")
# Quotes, backslashes and wildcards would need quoting or mean something else in IMAP commands.
FOLDER_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\*%]')


class ReportMailboxForm(forms.ModelForm):
    """The secret is write-only: never rendered back; left blank it stays as it is."""

    class LoginMethod(models.TextChoices):
        PASSWORD = "password", gettext_lazy("パスワード")
        OAUTH2 = "oauth2", gettext_lazy("OAuth2 アクセストークン（XOAUTH2）")

    login_method = forms.ChoiceField(
        label=gettext_lazy("認証方式"),
        choices=LoginMethod.choices,
        widget=forms.RadioSelect,
        initial=LoginMethod.PASSWORD,
    )
    secret = forms.CharField(
        label=gettext_lazy("パスワードまたはアクセストークン"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = ReportMailbox
        fields = ["host", "port", "security", "username", "folder", "processed_folder", "error_folder", "enabled"]
        help_texts = {
            "security": gettext_lazy("暗号化なしは、ループバックかプライベートアドレスのサーバーにだけ使えます。"),
            "folder": gettext_lazy("職員が不審メールを転送する先のフォルダー（通常は INBOX）。"),
            "processed_folder": gettext_lazy(
                "取り込んだメールの移動先。空欄なら移動せず、既読と $MamoriDone キーワードを付けます。"
            ),
            "error_folder": gettext_lazy(
                "取り込めなかったメールの移動先。空欄なら移動せず、$MamoriError キーワードとフラグを付けます。"
                "どちらの場合もメールは削除しません。"
            ),
            "enabled": gettext_lazy("オフにすると、ワーカーはこのメールボックスを確認しません。"),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        stored = self.stored_method
        if stored:
            self.fields["login_method"].initial = stored
            self.fields["secret"].help_text = _("保存済みです（表示しません）。空欄のままなら変更しません。")
        else:
            self.fields["secret"].help_text = _("OAuth2 のアクセストークンは期限が切れたら入れ直してください。")

    @property
    def stored_method(self) -> str:
        if self.instance.sealed_oauth2_token:
            return self.LoginMethod.OAUTH2
        return self.LoginMethod.PASSWORD if self.instance.sealed_password else ""

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip().rstrip(".")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not HOSTNAME.match(host):
                raise forms.ValidationError(_("ホスト名または IP アドレスを入力してください。")) from None
        return host

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("ポートは 1〜65535 の範囲で入力してください。"))
        return port

    def _clean_folder(self, name: str) -> str:
        folder = self.cleaned_data[name].strip()
        if FOLDER_UNSAFE.search(folder):
            raise forms.ValidationError(_('フォルダー名に制御文字・「"」「\\」「*」「%」は使えません。'))
        return folder

    def clean_folder(self) -> str:
        return self._clean_folder("folder")

    def clean_processed_folder(self) -> str:
        return self._clean_folder("processed_folder")

    def clean_error_folder(self) -> str:
        return self._clean_folder("error_folder")

    def clean(self):
        cleaned = super().clean()
        host, security = cleaned.get("host"), cleaned.get("security")
        if host and security == ReportMailbox.Security.NONE and not plain_allowed(host):
            self.add_error(
                "security",
                _("暗号化なしで接続できるのは、ループバックかプライベートアドレスのサーバーだけです。"),
            )
        folder = cleaned.get("folder")
        for name in ("processed_folder", "error_folder"):
            if folder and cleaned.get(name) == folder:
                self.add_error(name, _("受信フォルダーとは別のフォルダーを指定してください。"))
        processed, error = cleaned.get("processed_folder"), cleaned.get("error_folder")
        if processed and processed == error:
            self.add_error("error_folder", _("処理済みフォルダーとは別のフォルダーを指定してください。"))
        method = cleaned.get("login_method")
        if method and not cleaned.get("secret") and method != self.stored_method:
            self.add_error("secret", _("パスワードまたはアクセストークンを入力してください。"))
        return cleaned

    @property
    def secret_changed(self) -> bool:
        return bool(self.cleaned_data.get("secret"))

    def save(self, commit: bool = True) -> ReportMailbox:
        """The mailbox with the new secret sealed in its place (the other kind cleared)."""
        mailbox = super().save(commit=False)
        secret = self.cleaned_data.get("secret")
        if secret:
            oauth2 = self.cleaned_data["login_method"] == self.LoginMethod.OAUTH2
            mailbox.oauth2_token = secret if oauth2 else ""
            mailbox.password = "" if oauth2 else secret
        if commit:
            mailbox.save()
        return mailbox
