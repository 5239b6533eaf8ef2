"""The form for adding or changing a playbook step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from kam.activities.models import PlaybookStep


class PlaybookStepForm(forms.ModelForm):
    step = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = PlaybookStep
        fields = ["title", "kind", "offset_days", "repeat_days", "until_days", "sort_order", "is_active"]
        help_texts = {
            "repeat_days": gettext_lazy("Empty: once."),
            "until_days": gettext_lazy("Empty: until the stage ends."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif name != "step":
                css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
                field.widget.attrs.setdefault("class", css)

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
