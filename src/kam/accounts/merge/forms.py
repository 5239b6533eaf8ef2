"""The forms of a merge: pick the duplicate, then choose whose value each field keeps."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.merge.services import MERGE_FIELDS
from kam.accounts.models import Account
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete


class MergePickForm(forms.Form):
    other = IdChoiceField(queryset=None, label=_("Duplicate to merge into this account"),
                          widget=AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")))

    def __init__(self, *args, user, survivor, **kwargs):
        super().__init__(*args, **kwargs)
        bind_autocomplete(self, "other", Account.objects.visible_to(user).exclude(pk=survivor.pk))


def _shown(account: Account, name: str):
    field = Account._meta.get_field(name)
    if field.choices:
        return getattr(account, f"get_{name}_display")()
    value = getattr(account, name)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


class MergeForm(forms.Form):
    """One choice per field where the two accounts differ: keep this account's value or take the other's."""

    KEEP, TAKE = "keep", "take"
    survivor_version = forms.IntegerField(widget=forms.HiddenInput)
    merged_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, survivor: Account, merged: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.survivor, self.merged = survivor, merged
        self.fields["survivor_version"].initial = survivor.version
        self.fields["merged_version"].initial = merged.version
        self.rows = []
        for name in MERGE_FIELDS:
            field = Account._meta.get_field(name)
            ours, theirs = getattr(survivor, field.attname), getattr(merged, field.attname)
            if ours == theirs or theirs in (None, ""):
                continue
            keep_label, take_label = _shown(survivor, name), _shown(merged, name)
            self.fields[name] = forms.ChoiceField(
                label=field.verbose_name,
                choices=[(self.KEEP, keep_label if keep_label not in (None, "") else "—"), (self.TAKE, take_label)],
                initial=self.TAKE if ours in (None, "") else self.KEEP,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.rows.append(self[name])

    def fields_to_take(self) -> list[str]:
        return [row.name for row in self.rows if self.cleaned_data.get(row.name) == self.TAKE]

