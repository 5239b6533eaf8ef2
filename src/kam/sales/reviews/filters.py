"""The deal review list's filter, declared once for the page, its export, a meeting's items
and the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from ninja import Field

from kam.core.filters import FlagParam, IdParam, Label, ListFilter
from kam.sales.models import ReviewMeeting, ReviewStatus

FollowUpFilter = Literal["open", "overdue", "done"]
FOLLOW_UP_FILTERS: tuple[str, ...] = ("open", "overdue", "done")


class ReviewFilter(ListFilter):
    # Set from an opportunity's page, not in the filter bar.
    hidden_fields = frozenset({"opportunity"})

    status: ReviewStatus | Literal["open"] | None = Field(
        default=None, description="a status, or open: not yet decided", json_schema_extra={"label": Label("status")})
    meeting: IdParam | None = Field(default=None, json_schema_extra={"label": Label("meeting"), "widget": "select"})
    escalated: FlagParam | None = Field(default=None, description="only items escalated to the senior review, or only not",
                                        json_schema_extra={"label": Label("senior review"), "widget": "select"})
    follow_up: FollowUpFilter | None = Field(
        default=None, description="decided items whose follow-up tasks are open, overdue or all done",
        json_schema_extra={"label": Label("follow-up")})
    opportunity: IdParam | None = None

    @classmethod
    def _raw(cls, data: QueryDict | Mapping[str, Any]) -> dict[str, Any]:
        raw = super()._raw(data)
        # The page's "any" sends an empty value: no filter, not "not escalated".
        if str(data.get("escalated", "")).strip() == "":
            raw.pop("escalated", None)
        return raw

    def bar(self, *, meetings: QuerySet[ReviewMeeting]) -> forms.Form:
        """The page's filter bar."""
        form = self.form(choices={
            "status": [("open", _("not yet decided")), *ReviewStatus.choices],
            "meeting": meetings,
            "escalated": [("true", _("escalated")), ("false", _("not escalated"))],
            "follow_up": [("open", _("decided, follow-up open")), ("overdue", _("decided, follow-up overdue")),
                          ("done", _("decided, follow-up done"))],
        })
        form.initial["escalated"] = "" if self.escalated is None else "true" if self.escalated else "false"
        return form
