"""The form HQ changes a tier's service standard with."""

from __future__ import annotations

from django import forms

from kam.activities.models import ServiceStandard


class ServiceStandardForm(forms.ModelForm):
    class Meta:
        model = ServiceStandard
        fields = ["visits", "visit_period", "calls", "call_period", "value_report_months",
                  "executive_meeting_months", "response_hours", "support_hours_per_year", "member_benefits"]
