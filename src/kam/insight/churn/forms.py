"""Forms of the churn pages: the range and filters, an event's reason, the mark "moved to a
competitor" and a churn definition. They parse; the rules are in kam.insight.churn.services."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kam.core.models import Industry, OrgUnit
from kam.core.web import IdChoiceField
from kam.insight.churn.filters import ChurnEventFilter
from kam.insight.churn.rates import MAX_MONTHS
from kam.insight.churn.services import (
    NOTE_MAX,
    PARAM_RANGES,
    month_start,
    months_between,
)
from kam.insight.models import ChurnDefinition, ChurnReason
from kam.sales.models import Competitor

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DEFAULT_MONTHS = 12  # the range the page opens with: the last twelve months


def months_in(first: date, last: date) -> int:
    return len(months_between(first, last))


def _month(text: str) -> date | None:
    match = MONTH.match((text or "").strip())
    if not match or not 1900 <= int(match[1]) <= 9998 or not 1 <= int(match[2]) <= 12:
        return None
    return date(int(match[1]), int(match[2]), 1)


class MonthField(forms.CharField):
    """A calendar month as YYYY-MM, to its first day."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        day = _month(value)
        if day is None:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-06."), code="invalid")
        return day


def _style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


def _month_input():
    return forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "maxlength": 7})


def user_units(user) -> list[OrgUnit]:
    if user.sees_everything:
        return list(OrgUnit.objects.filter(is_active=True))
    return list(OrgUnit.objects.filter(pk__in=user.visible_unit_ids, is_active=True))


class ChurnFilterForm(forms.Form):
    """The page's range (months, by month or quarter) and filters."""

    start = MonthField(label=_("from month"), required=False, widget=_month_input())
    end = MonthField(label=_("to month"), required=False, widget=_month_input())
    by = forms.ChoiceField(label=_("per"), required=False,
                           choices=[("month", _("month")), ("quarter", _("quarter"))])
    definition = IdChoiceField(label=_("churn definition"), required=False, queryset=ChurnDefinition.objects.all(),
                               empty_label=_("all"))
    unit = forms.ChoiceField(label=_("org unit"), required=False)
    industry = IdChoiceField(label=_("industry"), required=False, queryset=Industry.objects.filter(is_active=True),
                             empty_label=_("all"))
    reason = forms.ChoiceField(label=_("reason"), required=False)
    state = forms.ChoiceField(label=_("state"), required=False, choices=[
        ("", _("all")), ("open", _("not recovered")), ("recovered", _("recovered"))])

    def __init__(self, data=None, *, user, **kw):
        super().__init__(data, **kw)
        self.units = user_units(user)
        self.fields["unit"].choices = [("", _("all"))] + [(u.code, u.name) for u in self.units]
        self.fields["reason"].choices = [("", _("all")), ("0", _("Unclassified"))] + [
            (str(r.pk), r.name) for r in ChurnReason.objects.all()]
        _style(self)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The last month cannot come before the first."))
        elif start and end and months_in(start, end) > MAX_MONTHS:
            self.add_error("end", _("At most %(n)d months at a time.") % {"n": MAX_MONTHS})
        return data

    def chosen(self) -> dict:
        """The valid choices, with defaults for the rest: by month, the twelve months up to and
        including this one (so that what was found or marked today is on the page)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        today = timezone.localdate()
        end = data.get("end") or month_start(today)
        start = data.get("start") or month_start(end, DEFAULT_MONTHS - 1)
        if start > end:
            start = month_start(end, DEFAULT_MONTHS - 1)
        unit = next((u for u in self.units if u.code == data.get("unit")), None)
        return {"start": start, "end": month_start(end, -1) - timedelta(days=1), "by": data.get("by") or "month",
                "definition": data.get("definition"), "unit": unit, "industry": data.get("industry"),
                "reason": int(data["reason"]) if data.get("reason") not in (None, "") else None,
                "state": data.get("state") or ""}

    def event_filters(self) -> ChurnEventFilter:
        """The events list's filter for the chosen range and choices."""
        c = self.chosen()
        return ChurnEventFilter(definition=c["definition"].pk if c["definition"] else None, reason=c["reason"],
                            unit=c["unit"].pk if c["unit"] else None, industry=c["industry"].pk if c["industry"] else None,
                            detected_from=c["start"], detected_to=c["end"], state=c["state"])


class EventForm(forms.Form):
    reason = IdChoiceField(label=_("reason"), required=False, queryset=ChurnReason.objects.filter(is_active=True),
                           empty_label=_("Unclassified"))
    competitor = IdChoiceField(label=_("competitor"), required=False, queryset=Competitor.objects.filter(is_active=True),
                               empty_label=_("none"))
    note = forms.CharField(label=_("note"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        _style(self)


class MarkForm(forms.Form):
    competitor = IdChoiceField(label=_("competitor"), queryset=Competitor.objects.filter(is_active=True))
    reason = IdChoiceField(label=_("reason"), required=False, queryset=ChurnReason.objects.filter(is_active=True))
    on = forms.DateField(label=_("moved to the competitor on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("note"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        _style(self)


PARAM_LABELS = {
    "drop_percent": _("drop (%)"),
    "baseline_months": _("baseline months"),
    "recent_months": _("recent months"),
    "days": _("days without revenue"),
}


class DefinitionForm(forms.Form):
    """Name, active and the rule's parameters (whole numbers in their ranges)."""

    name = forms.CharField(label=_("name"), max_length=100)
    is_active = forms.BooleanField(label=_("active"), required=False)

    def __init__(self, data=None, *, definition: ChurnDefinition, **kw):
        kw.setdefault("prefix", f"d{definition.pk}")
        initial = {"name": definition.name, "is_active": definition.is_active, **(definition.params or {})}
        super().__init__(data, initial=initial, **kw)
        self.definition = definition
        for name, (low, high) in PARAM_RANGES.get(definition.rule, {}).items():
            self.fields[name] = forms.IntegerField(label=PARAM_LABELS.get(name, name), min_value=low, max_value=high)
        _style(self)

    def params(self) -> dict:
        return {name: self.cleaned_data[name] for name in PARAM_RANGES.get(self.definition.rule, {})}
