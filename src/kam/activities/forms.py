"""The form for logging an activity (the list's filter is filters.ActivityFilter)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import Account, Contact, DecisionRole
from kam.activities.models import ActivityKind
from kam.activities.selectors import participant_choices


class ContactChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Contact) -> str:
        label = f"{obj.name} · {obj.title}" if obj.title else obj.name
        if obj.decision_role == DecisionRole.DECISION_MAKER:
            label += f" ({DecisionRole.DECISION_MAKER.label})"
        return label


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=ActivityKind.choices, initial=ActivityKind.VISIT)
    occurred_at = forms.DateTimeField(
        label=_("when"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    contacts = ContactChoices(
        label=_("contacts met"), queryset=Contact.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("our other participants"), queryset=None, required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    summary = forms.CharField(label=_("summary"), widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(label=_("next step"), max_length=200, required=False)
    next_step_due = forms.DateField(
        label=_("next step due"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("With a date, the next step becomes your task."),
    )
    location = forms.CharField(label=_("check-in location"), max_length=200, required=False)

    def __init__(self, *args, user, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["contacts"].queryset = Contact.objects.visible_to(user).filter(account=account).order_by("name", "id")
        self.fields["participants"].queryset = participant_choices(user=user, account=account).exclude(pk=user.pk)
        if not self.is_bound:
            self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue
            css = "form-select" if isinstance(field.widget, forms.Select | forms.SelectMultiple) else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("data-field", name)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"], "occurred_at": data["occurred_at"], "summary": data["summary"],
            "participants": list(data.get("participants") or ()), "contacts": list(data.get("contacts") or ()),
            "next_step": data.get("next_step") or "", "next_step_due": data.get("next_step_due"),
            "location": data.get("location") or "",
        }
