"""Forms of the import pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.imports import policies
from kam.imports.models import ImportKind, ImportMode, MappingTemplate


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Import"), choices=ImportKind.choices,
                             widget=forms.Select(attrs={"class": "form-select"}))
    file = forms.FileField(label=_("File (.xlsx or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}))
    create_accounts = forms.BooleanField(
        label=_("Revenue: create unknown account codes as unidentified accounts"), required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    template = forms.ModelChoiceField(queryset=MappingTemplate.objects.none(), required=False,
                                      label=_("Column mapping template"), empty_label=_("Recognise the headers"),
                                      widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = MappingTemplate.objects.filter(user=user)
        # Only the kinds the user may import (the service refuses the others too).
        self.fields["kind"].choices = [(kind, label) for kind, label in ImportKind.choices
                                       if policies.may_start_import(user, kind)]


class MappingForm(forms.Form):
    """One select per file header: which column of ours it fills, or none."""

    template_name = forms.CharField(label=_("Save this mapping as a template named"), required=False, max_length=80,
                                    widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, headers: list[str], columns, current: dict[int, str], samples: list[list], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore this column —"))] + [
            (c.name, f"{c.label}{' *' if c.required else ''}") for c in columns
        ]
        self.rows = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("(no header)"), choices=choices, required=False, initial=current.get(index, ""),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            values = [str(row[index]) for row in samples if index < len(row) and row[index] is not None]
            self.rows.append((self[name], header, values[:3]))
        self.headers = headers

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"col_{i}") or "" for i, header in enumerate(self.headers) if header}


class ConfirmForm(forms.Form):
    mode = forms.ChoiceField(label=_("How to import"), choices=ImportMode.choices, initial=ImportMode.ALL_OR_NOTHING,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    include_duplicates = forms.BooleanField(label=_("Also create the rows marked as likely duplicates"),
                                            required=False,
                                            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
