"""The results filters: department (with its sub-tree), position, employment type; the people list's outcome."""

from django import forms
from django.utils.translation import gettext_lazy

from mamori.core.models import Department, Person
from mamori.drills.plan import LEVELS
from mamori.drills.results import Outcome, ResultFilter

ALL = gettext_lazy("すべて")


class ResultFilterForm(forms.Form):
    """GET filters. A value that is not offered (another ward's department, a stale position) is an error on
    its field and the other fields still apply."""

    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=ALL,
        label=gettext_lazy("所属（配下を含む）"),
    )
    position = forms.ChoiceField(required=False, label=gettext_lazy("役職"))
    employment_type = forms.ChoiceField(
        required=False, choices=[("", ALL), *Person.EmploymentType.choices], label=gettext_lazy("雇用区分")
    )

    def __init__(self, data, *, departments, positions: list[str]):
        super().__init__(data)
        self.fields["department"].queryset = departments
        self.fields["position"].choices = [("", ALL), *((position, position) for position in positions)]

    def result_filter(self) -> ResultFilter:
        self.is_valid()
        cleaned = self.cleaned_data
        return ResultFilter(
            department=cleaned.get("department"),
            position=cleaned.get("position") or "",
            employment_type=cleaned.get("employment_type") or "",
        )


class SummaryFilterForm(ResultFilterForm):
    level = forms.TypedChoiceField(
        required=False,
        choices=list(LEVELS.items()),
        coerce=int,
        empty_value=1,
        label=gettext_lazy("集計の単位"),
    )

    @property
    def selected_level(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("level", 1)


class PeopleFilterForm(ResultFilterForm):
    outcome = forms.ChoiceField(required=False, choices=Outcome.CHOICES, label=gettext_lazy("結果"))

    @property
    def selected_outcome(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("outcome") or ""
