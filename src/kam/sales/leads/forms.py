"""The lead pages' forms: they parse and show; the services in kam.sales.leads decide."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account
from kam.core.models import Industry, OrgUnit, Region
from kam.core.validators import validate_name
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete
from kam.sales.leads import selectors
from kam.sales.models import LeadAssignmentRule, LeadSource

MONEY_LIMITS = {"max_digits": 16, "decimal_places": 2, "min_value": 0}
NEW_ACCOUNT = "new"


def _style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        if isinstance(widget, forms.HiddenInput | AutocompleteWidget | forms.RadioSelect | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


def _active(model):
    return model.objects.filter(is_active=True).order_by("sort_order", "code")


# --- forms ---------------------------------------------------------------------------------


class LeadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=LeadSource.objects.none(), label=gettext_lazy("source"))
    company = forms.CharField(label=gettext_lazy("company"), max_length=200, validators=[validate_name])
    uscc = forms.CharField(label=gettext_lazy("unified social credit code"), max_length=30, required=False)
    contact_name = forms.CharField(label=gettext_lazy("contact"), max_length=50, required=False,
                                   validators=[validate_name])
    contact_title = forms.CharField(label=gettext_lazy("contact's title"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=30, required=False)
    email = forms.EmailField(label=gettext_lazy("email"), required=False)
    need = forms.CharField(label=gettext_lazy("need"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    estimated_amount = forms.DecimalField(label=gettext_lazy("estimated amount (yuan)"), required=False,
                                          **MONEY_LIMITS)
    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=gettext_lazy("region"), required=False)
    industry = forms.ModelChoiceField(queryset=Industry.objects.none(), label=gettext_lazy("industry"), required=False)
    assignee = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("assign to"),
        help_text=gettext_lazy("Leave empty to let the assignment rules decide."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = _active(LeadSource)
        self.fields["region"].queryset = _active(Region)
        self.fields["industry"].queryset = _active(Industry)
        if user.is_specialist:
            del self.fields["assignee"]
        else:
            self.fields["assignee"].queryset = selectors.lead_assignees(user=user)
        _style(self)

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "assignee"}


class FollowUpForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("what was done"), widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(label=gettext_lazy("follow-up plan"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, label=gettext_lazy("assign to"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.lead_assignees(user=user)
        _style(self)


class DisqualifyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("reason"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class QualifyForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("the lead becomes"), widget=forms.RadioSelect, initial="opportunity",
        choices=[("opportunity", gettext_lazy("an opportunity, to sales")),
                 ("nurture", gettext_lazy("a prospect to nurture, to marketing"))],
    )
    account = forms.ChoiceField(label=gettext_lazy("account"), widget=forms.RadioSelect, required=False)
    other_account = IdChoiceField(queryset=None, required=False, label=gettext_lazy("or another account"),
                                  widget=AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")))
    confirm_new = forms.BooleanField(
        required=False, label=gettext_lazy("None of these: create a new account anyway"))
    opportunity_name = forms.CharField(label=gettext_lazy("project"), max_length=200, required=False,
                                       validators=[validate_name])
    amount = forms.DecimalField(label=gettext_lazy("intended amount (yuan)"), required=False, **MONEY_LIMITS)
    expected_close = forms.DateField(label=gettext_lazy("expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("note"), max_length=500, required=False)

    def __init__(self, *args, user, candidates: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.fields["account"].choices = [
            *((str(a.pk), f"{a.name} ({a.code}) · {a.owner or _('public pool')} · {a.unit}") for a in candidates),
            (NEW_ACCOUNT, _("a new account from the lead")),
        ]
        self.fields["account"].initial = str(candidates[0].pk) if candidates else NEW_ACCOUNT
        bind_autocomplete(self, "other_account", Account.objects.visible_to(user))
        _style(self)

    def service_args(self) -> dict:
        data = self.cleaned_data
        chosen = data.get("other_account") or (data.get("account") if data.get("account") not in ("", NEW_ACCOUNT)
                                               else None)
        return {
            "outcome": data["outcome"], "account": chosen, "confirm_new_account": bool(data.get("confirm_new")),
            "opportunity_name": data.get("opportunity_name") or "", "amount": data.get("amount"),
            "expected_close": data.get("expected_close"), "note": data.get("note") or "",
        }


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by their depth in the tree, so a branch's offices sit under it."""

    indent = "\u3000"  # an ideographic space: one Chinese character wide

    def label_from_instance(self, obj):
        return self.indent * max(obj.depth, 0) + obj.name


class LeadRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100, validators=[validate_name])
    region = forms.ModelChoiceField(queryset=Region.objects.none(), required=False, label=gettext_lazy("region"),
                                    empty_label=gettext_lazy("any region"),
                                    help_text=gettext_lazy("A province also catches its cities."))
    industry = forms.ModelChoiceField(queryset=Industry.objects.none(), required=False,
                                      label=gettext_lazy("industry"), empty_label=gettext_lazy("any industry"))
    source = forms.ModelChoiceField(queryset=LeadSource.objects.none(), required=False,
                                    label=gettext_lazy("source"), empty_label=gettext_lazy("any source"))
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("assign to unit"))
    assignee = IdChoiceField(
        queryset=None, required=False, label=gettext_lazy("assign to person"),
        widget=AutocompleteWidget(url=reverse_lazy("users_autocomplete")),
        help_text=gettext_lazy("Someone in the unit or below it. Leave empty to deal the leads in turn "
                               "to the unit's active specialists (round robin)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = _active(Region)
        self.fields["industry"].queryset = _active(Industry)
        self.fields["source"].queryset = _active(LeadSource)
        units = OrgUnit.objects.filter(is_active=True).order_by("path")
        if not (user.is_superuser or user.sees_everything):
            units = units.filter(pk__in=user.visible_unit_ids)
        self.fields["unit"].queryset = units
        bind_autocomplete(self, "assignee", selectors.lead_assignees(user=user))
        _style(self)

    @staticmethod
    def initial_for(rule: LeadAssignmentRule) -> dict:
        return {"name": rule.name, "region": rule.region_id, "industry": rule.industry_id,
                "source": rule.source_id, "unit": rule.unit_id, "assignee": rule.assignee_id}
