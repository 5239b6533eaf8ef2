"""The activity list's and the task list's filters, declared once for the pages, the export and the API."""

from __future__ import annotations

from pydantic import Field

from kam.activities.models import ActivityKind, TaskStatus
from kam.core.filters import IdParam, IsoDate, Label, ListFilter


class ActivityFilter(ListFilter):
    kind: ActivityKind | None = Field(None, json_schema_extra={"label": Label("kind")})
    date_from: IsoDate | None = Field(None, json_schema_extra={"label": Label("date from"), "widget": "date"})
    date_to: IsoDate | None = Field(None, json_schema_extra={"label": Label("date to"), "widget": "date"})
    account: IdParam | None = Field(None, json_schema_extra={"label": Label("account"), "widget": "autocomplete",
                                                             "url": "accounts:autocomplete"})
    person: IdParam | None = Field(None, description="one of our participants (user id)",
                                   json_schema_extra={"label": Label("our participant"), "widget": "autocomplete",
                                                      "url": "users_autocomplete"})


class TaskFilter(ListFilter):
    status: TaskStatus = Field(TaskStatus.OPEN, json_schema_extra={"label": Label("status")})
