"""Forms of the account card (the list's filter bar is kam.accounts.card.filters)."""

from __future__ import annotations

from typing import NamedTuple

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kam.accounts.card.services import assignable_owners
from kam.accounts.models import Account
from kam.core.models import Industry, Region
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete

# The card's field groups, in the order the card shows them.
ACCOUNT_GROUPS = [
    (_("Identity"), [
        "name", "short_name", "code", "uscc", "legal_representative", "enterprise_type", "industry",
        "region", "address", "phone", "website", "bank_name", "bank_account", "staff_size", "parent",
    ]),
    (_("Characteristics"), [
        "market_region", "sales_capacity", "financial_status", "growth_potential", "key_technology",
        "asset_scale", "annual_revenue",
    ]),
    (_("Business status"), ["problems", "advantages", "future_strategy", "brand_reputation", "trade_terms"]),
    (_("Credit"), [
        "bank_rating", "credit_limit", "payment_term_days", "rolling_credit", "receivables",
        "receivables_over_90_days", "overdue_amount", "prepaid_only",
    ]),
    (_("Ownership and status"), [
        # The relationship stage follows from the signing date; it is not typed in.
        "owner", "channel", "lifecycle_status", "signed_on", "notes",
    ]),
]


ACCOUNT_FORM_FIELDS = [name for _label, names in ACCOUNT_GROUPS for name in names]


class CardField(NamedTuple):
    name: str
    label: str


def card_groups() -> list[tuple[str, list[CardField]]]:
    """The card's field groups with the fields' labels, as the form labels them — read from the
    model, not from a form built only to name its fields."""
    meta = Account._meta
    return [(label, [CardField(name, capfirst(meta.get_field(name).verbose_name)) for name in names])
            for label, names in ACCOUNT_GROUPS]


TEXTAREAS = {"problems", "advantages", "future_strategy", "brand_reputation", "trade_terms", "notes"}


class AccountForm(forms.ModelForm):
    # A website typed without a scheme is taken as https.
    website = forms.URLField(label=Account._meta.get_field("website").verbose_name, required=False,
                             assume_scheme="https")
    confirm_similar = forms.BooleanField(label=_("Create anyway"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Why the customer state is changed by hand (won deals, revenue and churn move it themselves).
    lifecycle_reason = forms.CharField(label=_("why the state changes"), max_length=60, required=False,
                                       help_text=_("Needed when you change the customer state by hand."))

    class Meta:
        model = Account
        fields = ACCOUNT_FORM_FIELDS
        field_classes = {name: IdChoiceField for name in ("industry", "region", "parent", "owner")}
        widgets = {
            **{name: forms.Textarea(attrs={"rows": 2}) for name in TEXTAREAS},
            "parent": AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")),
            "owner": AutocompleteWidget(url=reverse_lazy("users_autocomplete")),
            "signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = _("Left empty, a code is assigned.")
        self.fields["owner"].required = False
        self.fields["industry"].queryset = Industry.objects.filter(is_active=True)
        self.fields["region"].queryset = Region.objects.filter(is_active=True)
        parents = Account.objects.visible_to(user)
        if self.instance.parent_id:
            # The group head the account already has stays a valid choice (and is shown),
            # even where it lies outside the user's view; the service checks a new one.
            parents = Account.objects.filter(Q(pk__in=parents.values("pk")) | Q(pk=self.instance.parent_id))
        bind_autocomplete(self, "parent", parents)
        bind_autocomplete(self, "owner", assignable_owners(user))
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif not isinstance(field.widget, (forms.HiddenInput, AutocompleteWidget)):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def validate_unique(self):
        """Uniqueness is the service's rule: it also says where the existing account is."""

    def edit_groups(self):
        """The groups as the form shows them: on edit, the reason for a new customer state
        follows the state."""
        extra = {"lifecycle_status": ["lifecycle_reason"]} if self.instance.pk else {}
        return [(label, [self[n] for name in names for n in (name, *extra.get(name, []))])
                for label, names in ACCOUNT_GROUPS]

    def service_data(self) -> dict:
        """The cleaned values the service takes; on edit only the fields that changed."""
        names = ACCOUNT_FORM_FIELDS if not self.instance.pk else [n for n in self.changed_data if n in ACCOUNT_FORM_FIELDS]
        data = {name: self.cleaned_data.get(name) for name in names}
        if data.get("uscc") == "":
            data["uscc"] = None
        if "owner" in data and data["owner"] is None:
            data.pop("owner")
        return data
