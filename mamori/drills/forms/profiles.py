"""Sending profile (送信設定) forms: the profile itself, and the address of a test mail."""

import ipaddress
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.drills.models import SendingProfile
from mamori.drills.sender.compose import extra_header_errors

HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){HOST_LABEL}(?:\.{HOST_LABEL})*$")
# Far above any relay's policy; a typo of an extra zero is still caught.
MAX_RATE_PER_MINUTE = 60_000


def parse_header_lines(text: str) -> list[list[str]]:
    """「名前: 値」 a line → ``[[name, value], …]``; a line without a colon keeps an empty value (an error)."""
    headers = []
    for line in text.splitlines():
        if line.strip():
            name, _colon, value = line.partition(":")
            headers.append([name.strip(), value.strip()])
    return headers


def header_lines(headers: list) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers)


class SendingProfileForm(forms.ModelForm):
    """The password is write-only: never rendered back; left blank it stays as it is."""

    # Never named in audit entries, never shown back.
    secret_fields = frozenset({"password", "clear_password"})

    password = forms.CharField(
        label=gettext_lazy("パスワード"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(label=gettext_lazy("保存済みのパスワードを削除する"), required=False)
    extra_headers = forms.CharField(
        label=gettext_lazy("追加ヘッダー"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "1行に1つ「名前: 値」の形で書きます（例: X-Ward-Drill: 2026-q2）。ゲートウェイで訓練メールを許可するのに"
            "使います。From・To・Subject・Message-ID などは指定できません。"
        ),
    )

    class Meta:
        model = SendingProfile
        fields = [
            "name",
            "host",
            "port",
            "security",
            "username",
            "envelope_sender",
            "charset",
            "rate_per_minute",
            "token_header",
        ]
        help_texts = {
            "envelope_sender": gettext_lazy(
                "MAIL FROM に使うアドレス（戻りメールの宛先）。空欄ならシナリオの差出人アドレスを使います。"
            ),
            "charset": gettext_lazy(
                "ISO-2022-JP では、JIS の範囲外の文字（①、髙 など）を含むメールだけ UTF-8 で送ります。"
            ),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        self.fields["extra_headers"].initial = header_lines(self.instance.extra_headers)
        if self.instance.sealed_password:
            self.fields["password"].help_text = _("保存済みです（表示しません）。空欄のままなら変更しません。")
        else:
            self.fields["password"].help_text = _("SMTP 認証を使わない場合は空欄のままにします。")
            del self.fields["clear_password"]

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

    def clean_rate_per_minute(self) -> int:
        rate = self.cleaned_data["rate_per_minute"]
        if rate > MAX_RATE_PER_MINUTE:
            raise forms.ValidationError(
                _("送信レートは %(max)s 通/分以下にしてください（0 は無制限）。") % {"max": f"{MAX_RATE_PER_MINUTE:,}"}
            )
        return rate

    def clean_extra_headers(self) -> list[list[str]]:
        headers = parse_header_lines(self.cleaned_data["extra_headers"])
        errors = extra_header_errors(headers)
        if errors:
            raise forms.ValidationError(errors)
        return headers

    def clean(self):
        cleaned = super().clean()
        password, clear = cleaned.get("password"), cleaned.get("clear_password")
        if password and clear:
            self.add_error("password", _("新しいパスワードを入力するか、削除するかのどちらかにしてください。"))
        keeps_password = bool(self.instance.sealed_password) and not clear
        if cleaned.get("username") and not (password or keeps_password):
            self.add_error("password", _("ユーザー名を指定する場合はパスワードも入力してください。"))
        return cleaned

    @property
    def password_changed(self) -> bool:
        return bool(self.cleaned_data.get("password") or self.cleaned_data.get("clear_password"))

    def save(self, commit: bool = True) -> SendingProfile:
        profile = super().save(commit=False)
        profile.extra_headers = self.cleaned_data["extra_headers"]
        if self.cleaned_data.get("password"):
            profile.password = self.cleaned_data["password"]
        elif self.cleaned_data.get("clear_password"):
            profile.password = ""
        if commit:
            profile.save()
        return profile


class TrialSendForm(forms.Form):
    """Where the test mail goes: an address of the organization's verified domains only."""

    recipient = forms.EmailField(label=gettext_lazy("宛先メールアドレス"), max_length=254)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.domains = sorted(organization.verified_domain_names())
        self.fields["recipient"].help_text = _("組織の確認済みドメイン（%(domains)s）のアドレスにだけ送れます。") % {
            "domains": "、".join(self.domains) or _("未登録")
        }

    def clean_recipient(self) -> str:
        recipient = self.cleaned_data["recipient"].strip()
        if recipient.rsplit("@", 1)[-1].lower() not in self.domains:
            raise forms.ValidationError(_("確認済みドメインのアドレスを入力してください。"))
        return recipient
