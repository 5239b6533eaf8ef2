"""Forms of the opportunity pages: filters, the project's fields, moving, closing, the buying
centre and the competitors. They parse input; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import Account, Contact
from kam.accounts.services import assignable_owners
from kam.core.validators import validate_name
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete
from kam.sales.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    BuyingRole,
    Competitor,
    OutcomeReason,
    RivalStatus,
    Stage,
)

User = get_user_model()
MONEY_LIMITS = {"max_digits": 16, "decimal_places": 2, "min_value": 0}
_OPEN_CHOICES = [(value, label) for value, label in Stage.choices if value in OPEN_STAGES]
_CLOSED_CHOICES = [(value, label) for value, label in Stage.choices if value in CLOSED_STAGES]


def _style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | AutocompleteWidget | forms.RadioSelect):
            continue
        css = "form-select" if isinstance(widget, forms.Select | forms.SelectMultiple) else "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OpportunityForm(forms.Form):
    """A new opportunity (with account and starting stage) or the fields of an existing one."""

    account = IdChoiceField(queryset=None, label=_("account"),
                            widget=AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")))
    name = forms.CharField(label=_("project"), max_length=200, validators=[validate_name])
    stage = forms.ChoiceField(label=_("stage"), choices=_OPEN_CHOICES, initial=Stage.CONTACT)
    amount = forms.DecimalField(label=_("intended amount (yuan)"), **MONEY_LIMITS)
    our_quote = forms.DecimalField(label=_("our quote (yuan)"), required=False, **MONEY_LIMITS)
    expected_close = forms.DateField(label=_("expected close"), widget=_date_input())
    owner = IdChoiceField(queryset=None, label=_("owner"), required=False,
                          help_text=_("Yourself unless you choose someone in the units you manage."))
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, user, opportunity=None, **kwargs):
        super().__init__(*args, **kwargs)
        owners = assignable_owners(user)
        if opportunity is not None:
            owners = owners | User.objects.filter(pk=opportunity.owner_id)
            del self.fields["account"], self.fields["stage"]
        else:
            del self.fields["version"]
            bind_autocomplete(self, "account", Account.objects.visible_to(user))
        self.fields["owner"].queryset = owners.distinct().order_by("username")
        _style(self)

    def fields_data(self) -> dict:
        data = self.cleaned_data
        fields = {"name": data["name"], "amount": data["amount"], "our_quote": data.get("our_quote"),
                  "expected_close": data["expected_close"], "description": data.get("description") or ""}
        if data.get("owner") is not None:  # left empty: yourself on a new one, unchanged on an edit
            fields["owner"] = data["owner"]
        return fields


class MoveForm(forms.Form):
    stage = forms.ChoiceField(label=_("move to"), choices=_OPEN_CHOICES)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class CloseForm(forms.Form):
    """Won or lost. Reason and note are checked by the service, which names what is missing."""

    outcome = forms.ChoiceField(label=_("outcome"), choices=_CLOSED_CHOICES)
    reason = IdChoiceField(queryset=OutcomeReason.objects.filter(is_active=True), label=_("reason"),
                           required=False)
    note = forms.CharField(label=_("what decided it"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    our_quote = forms.DecimalField(label=_("our final quote (yuan)"), required=False, **MONEY_LIMITS)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
        testids = {"outcome": "close-outcome", "reason": "close-reason", "note": "close-note",
                   "our_quote": "close-our-quote"}
        for name, testid in testids.items():
            self.fields[name].widget.attrs["data-testid"] = testid

    def reason_choices(self):
        """(id, name, applies_to) so the page can offer only the reasons of the chosen outcome."""
        return list(self.fields["reason"].queryset.values_list("pk", "name", "applies_to"))


class ReopenForm(forms.Form):
    stage = forms.ChoiceField(label=_("reopen into"), choices=_OPEN_CHOICES, initial=Stage.TENDER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class BuyingCentreForm(forms.Form):
    contact = IdChoiceField(queryset=Contact.objects.none(), label=_("contact"))
    role = forms.ChoiceField(label=_("role in the purchase"), choices=BuyingRole.choices)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, user, account, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service refuses a contact of another account by name.
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        self.contact_choices = Contact.objects.visible_to(user).filter(account=account).order_by("name", "id")
        self.fields["contact"].widget = forms.Select(choices=[("", "—"), *(
            (c.pk, f"{c.name} · {c.title}" if c.title else c.name) for c in self.contact_choices)])
        _style(self)


class RivalForm(forms.Form):
    competitor = IdChoiceField(queryset=Competitor.objects.filter(is_active=True), label=_("competitor"))
    product = forms.CharField(label=_("their product"), max_length=200, required=False)
    quote = forms.DecimalField(label=_("their quote (yuan)"), required=False, **MONEY_LIMITS)
    status = forms.ChoiceField(label=_("status"), choices=RivalStatus.choices, initial=RivalStatus.ACTIVE)
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["competitor"]
        _style(self)
