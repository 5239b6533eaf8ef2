"""The models page's filter bar. The page shows why a value was left out (the messages of
Django's number fields), so it parses with a form and hands the selector a ScoreFilter, the
declaration the API uses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from kam.insight.forecast.filters import ScoreFilter


class ScoreFilterForm(forms.Form):
    p_alive_below = forms.DecimalField(label=gettext_lazy("P(alive) below"), required=False, min_value=0, max_value=1,
                                       decimal_places=3, widget=forms.NumberInput(attrs={"step": "0.05"}))
    min_value = forms.DecimalField(label=gettext_lazy("expected value at least (yuan)"), required=False, min_value=0,
                                   max_digits=16, decimal_places=2)
    order = forms.ChoiceField(label=gettext_lazy("order by"), required=False, choices=[
        ("value", gettext_lazy("expected value, highest first")),
        ("p_alive", gettext_lazy("P(alive), lowest first")),
        ("clv", gettext_lazy("lifetime value, highest first")),
    ])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field, forms.ChoiceField)
                                          else "form-control")

    def filters(self) -> ScoreFilter:
        """The valid filters; a field with a bad value is left out (its message shows on the form)."""
        if not self.is_bound:
            return ScoreFilter()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        below = data.get("p_alive_below")
        return ScoreFilter(p_alive_below=float(below) if below is not None else None,
                           min_value=data.get("min_value"), order=data.get("order") or "value")
