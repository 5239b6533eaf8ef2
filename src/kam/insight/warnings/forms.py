"""Forms of the warning pages: the retention action and a rule. They parse
input; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.core.web import AutocompleteWidget
from kam.insight.models import RetentionOutcome, Severity, WarningRule
from kam.insight.warnings.rules import PARAMS


def style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | AutocompleteWidget | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


class RetentionForm(forms.Form):
    action = forms.CharField(label=_("retention action"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was done to keep the account")}))
    outcome = forms.ChoiceField(label=_("outcome"), choices=[("", "—"), *RetentionOutcome.choices])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


class RuleForm(forms.Form):
    """A rule's switch, severity and parameters (one text field per parameter, checked by the service)."""

    is_enabled = forms.BooleanField(label=_("switched on"), required=False)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices)

    def __init__(self, *args: Any, rule: WarningRule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        for p in PARAMS.get(rule.code, []):
            self.fields[f"params.{p.name}"] = forms.CharField(label=p.label, required=False, max_length=30,
                                                              initial=(rule.params or {}).get(p.name, ""))
        if not self.is_bound:
            self.initial.update({"is_enabled": rule.is_enabled, "severity": rule.severity})
        style(self)
        for field in self.fields.values():  # the inputs sit in table cells outside the <form>
            field.widget.attrs["form"] = f"rule-form-{rule.pk}"

    def params(self) -> dict[str, Any]:
        return {name.split(".", 1)[1]: value for name, value in self.cleaned_data.items() if name.startswith("params.")}
