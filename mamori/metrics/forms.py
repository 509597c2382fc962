"""The metrics pages' query-string form: which fiscal year (and, on the department page, which department)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.drills.fiscal import current_fiscal_year

# Wide enough for any record a ward keeps, narrow enough that a typo is caught rather than shown as empty.
FIRST_FISCAL_YEAR = 2000
LAST_FISCAL_YEAR = 2100


class PeriodForm(forms.Form):
    """``?fy=2026``: the fiscal year shown; the current one when absent, with an error when unreadable."""

    fy = forms.IntegerField(
        label=_("年度"),
        required=False,
        min_value=FIRST_FISCAL_YEAR,
        max_value=LAST_FISCAL_YEAR,
        error_messages={
            "invalid": _("年度は西暦の数字で指定してください（例: 2026）。"),
            "min_value": _("年度は%(limit_value)s年度以降を指定してください。"),
            "max_value": _("年度は%(limit_value)s年度以前を指定してください。"),
        },
    )
    department = forms.UUIDField(
        label=_("所属"),
        required=False,
        error_messages={"invalid": _("所属の指定が正しくありません。")},
    )

    @property
    def fiscal_year(self) -> int:
        """The fiscal year asked for, or the current one (also when the query string was unreadable)."""
        self.is_valid()
        return self.cleaned_data.get("fy") or current_fiscal_year()

    @property
    def department_id(self):
        """The department's public_id asked for; None when absent or unreadable."""
        self.is_valid()
        return self.cleaned_data.get("department")

    def year_choices(self, with_data: list[int]) -> list[int]:
        """The years offered in the selector: those with data, this year and the last, and the one shown."""
        this_year = current_fiscal_year()
        return sorted({*with_data, this_year, this_year - 1, self.fiscal_year}, reverse=True)
