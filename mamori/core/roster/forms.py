from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.core.roster.parsing import RosterFileError, ensure_size_allowed


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("名簿ファイル"),
        help_text=_(
            "人事システムから出力した CSV（UTF-8 または Shift_JIS）か Excel（.xlsx）。"
            "1 行目に「氏名」「メール」「職員番号」の見出しが必要です（所属・役職・雇用区分・上長・かなは任意）。"
        ),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        # The size is checked before the content is read into memory (the upload itself sits in a temp file).
        try:
            ensure_size_allowed(uploaded.size)
        except RosterFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return uploaded

    def content(self) -> bytes:
        return self.cleaned_data["file"].read()
