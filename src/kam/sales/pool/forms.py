"""The public pool's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from kam.accounts.services import assignable_owners
from kam.core.web import IdChoiceField
from kam.sales.pool import policies

SELECT = {"class": "form-select"}


class ReleaseForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why does the account go to the pool?"), max_length=300,
                           widget=forms.TextInput(attrs={"class": "form-control"}))


class AssignForm(forms.Form):
    owner = IdChoiceField(queryset=None, label=gettext_lazy("new owner"), widget=forms.Select(attrs=SELECT))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (assignable_owners(user).filter(role__in=policies.CLAIMING_ROLES)
                                         .select_related("unit").order_by("unit__path", "username"))
