from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.reporting.models import ReportCluster


class VerdictForm(forms.Form):
    """A triager's judgement of one cluster of reports."""

    verdict = forms.ChoiceField(label=_("判定"), choices=ReportCluster.Verdict.choices)
    note = forms.CharField(label=_("メモ"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
