"""The activity list's and the task list's filters, declared once for the pages, the export and the API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from kam.activities.models import ActivityKind, TaskStatus
from kam.core.filters import IdParam, Label, ListFilter


# Dates come as ISO 8601 text only: a bare number is refused, not read as a Unix time.
def iso(pattern: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, dt.date):  # a default, or a value already parsed
            return value
        if not isinstance(value, str) or not re.match(pattern, value):
            raise ValueError("must be ISO 8601 text")
        return value

    checker: Callable[[Any], Any] = check
    return BeforeValidator(checker)


IsoDate = Annotated[dt.date, iso(r"^\d{4}-\d{2}-\d{2}$")]
IsoDateTime = Annotated[dt.datetime, iso(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")]


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
