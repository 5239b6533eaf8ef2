"""Forms of the warning pages: filters, the retention action, a rule, a survey. They parse
input; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import Account
from kam.accounts.selectors import colleagues
from kam.core.models import OrgUnit
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete
from kam.insight.models import RetentionOutcome, Severity, WarningRule, WarningState
from kam.insight.warnings.rules import PARAMS
from kam.insight.warnings.selectors import WarningFilters

STATE_ALL = "all"


def _style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | AutocompleteWidget | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


class WarningFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"), max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Account name or code"), "autocomplete": "off"}))
    rule = forms.ModelChoiceField(queryset=WarningRule.objects.all(), required=False, label=_("rule"), empty_label="—")
    severity = forms.ChoiceField(label=_("severity"), choices=[("", "—"), *Severity.choices], required=False)
    state = forms.ChoiceField(label=_("state"), choices=[*WarningState.choices, (STATE_ALL, _("All"))], required=False)
    unit = IdChoiceField(queryset=OrgUnit.objects.none(), required=False, label=_("org unit"))
    owner = IdChoiceField(queryset=None, required=False, label=_("owner"),
                          widget=AutocompleteWidget(url=reverse_lazy("users_autocomplete")))
    account = IdChoiceField(queryset=None, required=False, label=_("account"),
                            widget=AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = user.filter_units()
        bind_autocomplete(self, "owner", colleagues(user=user))
        bind_autocomplete(self, "account", Account.objects.visible_to(user))
        _style(self)

    def filters(self) -> WarningFilters:
        if not self.is_bound:
            return WarningFilters()
        self.is_valid()  # an invalid field is left out; the valid ones still filter
        c = self.cleaned_data
        state = c.get("state") or WarningState.OPEN
        return WarningFilters(
            rule=getattr(c.get("rule"), "pk", None), severity=c.get("severity") or "",
            state="" if state == STATE_ALL else state, unit=getattr(c.get("unit"), "pk", None),
            owner=getattr(c.get("owner"), "pk", None), account=getattr(c.get("account"), "pk", None), q=c.get("q") or "")


class RetentionForm(forms.Form):
    action = forms.CharField(label=_("retention action"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was done to keep the account")}))
    outcome = forms.ChoiceField(label=_("outcome"), choices=[("", "—"), *RetentionOutcome.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class RuleForm(forms.Form):
    """A rule's switch, severity and parameters (one text field per parameter, checked by the service)."""

    is_enabled = forms.BooleanField(label=_("switched on"), required=False)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices)

    def __init__(self, *args, rule: WarningRule, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        for p in PARAMS.get(rule.code, []):
            self.fields[f"params.{p.name}"] = forms.CharField(label=p.label, required=False, max_length=30,
                                                              initial=(rule.params or {}).get(p.name, ""))
        if not self.is_bound:
            self.initial.update({"is_enabled": rule.is_enabled, "severity": rule.severity})
        _style(self)
        for field in self.fields.values():  # the inputs sit in table cells outside the <form>
            field.widget.attrs["form"] = f"rule-form-{rule.pk}"

    def params(self) -> dict:
        return {name.split(".", 1)[1]: value for name, value in self.cleaned_data.items() if name.startswith("params.")}


class SurveyForm(forms.Form):
    """Plain text fields: the service checks the values and names the field it refuses."""

    score = forms.CharField(label=_("score (0–10)"), max_length=10, required=False)
    surveyed_on = forms.DateField(label=_("surveyed on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
