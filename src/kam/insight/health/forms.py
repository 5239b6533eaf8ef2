"""The health card's form: a satisfaction survey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.insight.warnings.forms import style


class SurveyForm(forms.Form):
    """Plain text fields: the service checks the values and names the field it refuses."""

    score = forms.CharField(label=_("score (0–10)"), max_length=10, required=False)
    surveyed_on = forms.DateField(label=_("surveyed on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)
