"""The public pool's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from kam.accounts.services import assignable_owners
from kam.core.models import Industry, OrgUnit, Region
from kam.core.web import IdChoiceField
from kam.sales.pool import policies, services

SELECT = {"class": "form-select"}


class PoolFilterForm(forms.Form):
    q = forms.CharField(required=False, label=gettext_lazy("Search"), widget=forms.TextInput(attrs={
        "placeholder": gettext_lazy("Name, pinyin initials, code or USCC"), "class": "form-control",
        "autocomplete": "off"}))
    industry = IdChoiceField(queryset=Industry.objects.filter(is_active=True), required=False,
                             label=gettext_lazy("industry"), widget=forms.Select(attrs=SELECT))
    region = IdChoiceField(queryset=Region.objects.filter(is_active=True), required=False,
                           label=gettext_lazy("region"), widget=forms.Select(attrs=SELECT))
    unit = IdChoiceField(queryset=OrgUnit.objects.none(), required=False, label=gettext_lazy("org unit"),
                         widget=forms.Select(attrs=SELECT))
    mine = forms.BooleanField(required=False, label=gettext_lazy("formerly mine"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        units = OrgUnit.objects.filter(is_active=True)
        branch = services.pool_branch(user) if policies.may_see_pool(user) else None
        if branch is not None:
            units = units.filter(path__startswith=branch.path)
        self.fields["unit"].queryset = units

    def filters(self) -> services.PoolFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return services.PoolFilters(
            q=data.get("q") or "", industry=getattr(data.get("industry"), "pk", None),
            region=getattr(data.get("region"), "pk", None), unit=getattr(data.get("unit"), "pk", None),
            former_owner=self.user.pk if data.get("mine") else None)


class ReleaseForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why does the account go to the pool?"), max_length=300,
                           widget=forms.TextInput(attrs={"class": "form-control"}))


class AssignForm(forms.Form):
    owner = IdChoiceField(queryset=None, label=gettext_lazy("new owner"), widget=forms.Select(attrs=SELECT))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (assignable_owners(user).filter(role__in=policies.CLAIMING_ROLES)
                                         .select_related("unit").order_by("unit__path", "username"))
