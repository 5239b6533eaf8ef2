"""Forms of the deal-review pages: the tracking sheet, the opinions, meetings and the list filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.core.validators import validate_name
from kam.core.web import IdChoiceField
from kam.sales.models import ReviewMeeting
from kam.sales.reviews.selectors import meeting_units


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _text_area(label, rows: int = 3, **kw) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}), max_length=10_000, **kw)


class ReviewSubmitForm(forms.Form):
    """The tracking sheet (《大客户开发跟踪表》); project and amount start as the opportunity's."""

    brief = _text_area(_("account brief"))
    core_needs = _text_area(_("core needs"))
    project = forms.CharField(label=_("project"), max_length=200)
    amount = forms.DecimalField(label=_("amount (yuan)"), max_digits=16, decimal_places=2, min_value=0)
    main_problems = _text_area(_("main problems"))
    proposed_strategy = _text_area(_("proposed strategy"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class RecommendForm(forms.Form):
    recommendation = _text_area(_("recommendation"), rows=4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class DecideForm(forms.Form):
    decision = _text_area(_("development decision"), rows=4)
    follow_ups = _text_area(
        _("follow-up actions"), rows=3, required=False,
        help_text=_("One task per line for the opportunity's owner; left empty, one task to follow up the decision."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def follow_up_lines(self) -> list[str]:
        return [line for line in self.cleaned_data.get("follow_ups", "").splitlines() if line.strip()]


class SeniorForm(forms.Form):
    reason = _text_area(_("why a senior review"), rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class ScheduleForm(forms.Form):
    meeting = IdChoiceField(label=_("meeting"), queryset=ReviewMeeting.objects.none(), required=False,
                            empty_label=_("— not on a meeting —"))

    def __init__(self, *args, meetings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings if meetings is not None else ReviewMeeting.objects.none()
        _styled(self)


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("meeting title"), max_length=200, validators=[validate_name])
    held_on = forms.DateField(label=_("held on"), widget=forms.DateInput(attrs={"type": "date"}))
    unit = IdChoiceField(label=_("org unit"), queryset=None)
    is_senior = forms.BooleanField(label=_("senior review (escalated items)"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = meeting_units(user=user)
        if user.unit_id:
            self.fields["unit"].initial = user.unit_id
        _styled(self)


class MeetingItemForm(forms.Form):
    review = IdChoiceField(label=_("item"), queryset=None)

    def __init__(self, *args, reviews, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["review"].queryset = reviews
        self.fields["review"].label_from_instance = lambda r: f"{r.opportunity.account.name} · {r.project}"
        _styled(self)


class MinutesForm(forms.Form):
    notes = _text_area(_("minutes"), rows=5, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)
