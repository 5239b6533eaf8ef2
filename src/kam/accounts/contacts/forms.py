"""The contact form."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy

from kam.accounts.models import Contact
from kam.accounts.team.selectors import colleagues
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete


class ContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = [
            "name", "title", "department", "mobile", "office_phone", "email", "wechat", "birthday",
            "decision_role", "attitude", "influence", "relationship_strength", "relationship_owner",
            "is_key", "status", "left_on", "successor", "notes",
        ]
        field_classes = {"relationship_owner": IdChoiceField, "successor": IdChoiceField}
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "left_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "relationship_owner": AutocompleteWidget(url=reverse_lazy("users_autocomplete")),
        }

    def __init__(self, *args, user, account, **kwargs):
        super().__init__(*args, **kwargs)
        bind_autocomplete(self, "relationship_owner", colleagues(user=user))
        successors = Contact.objects.visible_to(user).filter(account=account)
        if self.instance.pk:
            successors = successors.exclude(pk=self.instance.pk)
            self.fields["version"].initial = self.instance.version
        # One account's contacts: a short list, so a select is right here.
        self.fields["successor"].queryset = successors.order_by("name")
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif not isinstance(field.widget, (forms.HiddenInput, AutocompleteWidget)):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def service_data(self) -> dict:
        names = self.Meta.fields if not self.instance.pk else [n for n in self.changed_data if n in self.Meta.fields]
        return {name: self.cleaned_data.get(name) for name in names}

