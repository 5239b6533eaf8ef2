"""One declaration per list's filter, used by its page and by its API endpoint.

A feature's `filters.py` declares each list's filter once, as a `ListFilter` (a django-ninja
FilterSchema): the fields, their types and rules, their labels and how the page shows them::

    class LeadFilter(ListFilter):
        q: str = Field("", max_length=100, json_schema_extra={"label": Label("Search")})
        status: LeadStatus | None = Field(None, json_schema_extra={"label": Label("status")})
        source: IdParam | None = Field(None, json_schema_extra={"label": Label("source"),
                                                                "widget": "select"})

The API handler takes `filters: Query[LeadFilter]` (a bad value is a 422 naming the field). The
page builds the same object with `LeadFilter.from_request(request)`, which leaves a bad value
out and filters by the rest (a hand-edited URL still shows a list), and renders the filter bar
from `filters.form(choices={"source": queryset})`, a Django form made from the declaration for
display only. The selector takes the filter object and reads its attributes.

Widgets: "text" (the default for text), "select" (an enum's choices, or a queryset given to
`form`), "check" (the default for booleans), "autocomplete" (with "url": the URL name of the
search endpoint, and the queryset given to `form`), "date".
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Self

from django import forms
from django.http import HttpRequest, QueryDict
from django.urls import reverse_lazy
from django.utils.translation import gettext
from ninja import FilterSchema
from pydantic import BeforeValidator, Field, ValidationError, field_validator

from kam.core.web import AutocompleteWidget, IdChoiceField, QuickSelect, bind_autocomplete


class Label(str):
    """A filter-bar label: the English text as a str (what /api/openapi.json shows, which cannot
    hold a lazy translation) that becomes its translation whenever a page turns it into text.
    `make messages` collects `Label("…")` like `gettext_lazy("…")`."""

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __html__(self) -> str:
        return str(self)

TRUE_WORDS = frozenset({"true", "on", "1", "yes"})

IdParam = Annotated[int, Field(ge=1, le=2**63 - 1)]
CountParam = Annotated[int, Field(ge=0, le=2**31 - 1)]


def _true_or_false(value: Any) -> bool:
    if isinstance(value, bool):  # a default
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("must be true or false")


# Every boolean of a query string: the words true and false, as JSON writes them.
FlagParam = Annotated[bool, BeforeValidator(_true_or_false)]


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


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def _base_type(annotation: Any) -> Any:
    """`int | None` → int; `Annotated[int, …]` → int; `list[X]` stays."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


class ListFilter(FilterSchema):
    """A list's filter; see the module's documentation."""

    # Fields the page keeps out of the filter bar (set from links, e.g. a drill-down's account).
    hidden_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("must not hold a NUL character")
        return value

    @classmethod
    def _raw(cls, data: QueryDict | Mapping[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            if name not in data:
                continue
            kind = _base_type(field.annotation)
            if typing.get_origin(kind) is list:
                values = data.getlist(name) if isinstance(data, QueryDict) else data[name]
                raw[name] = [v for v in values if v not in ("", None)]
                continue
            value = data.get(name)
            if kind is bool:
                raw[name] = str(value).strip().lower() in TRUE_WORDS
            elif value not in ("", None):
                raw[name] = value.strip() if isinstance(value, str) else value
        return raw

    @classmethod
    def from_data(cls, data: QueryDict | Mapping[str, Any]) -> Self:
        """The filter from a query string; a value that breaks its field's rule is left out."""
        raw = cls._raw(data)
        for _attempt in range(len(raw) + 1):
            try:
                found = cls.model_validate(raw)
            except ValidationError as exc:
                bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
                if not bad & raw.keys():
                    raise
                for name in bad:
                    raw.pop(name, None)
                continue
            return found
        return cls()

    @classmethod
    def from_request(cls, request: HttpRequest) -> Self:
        return cls.from_data(request.GET)

    def is_active(self) -> bool:
        """Whether any field differs from its default (a page may say "filtered")."""
        return any(getattr(self, name) != field.default for name, field in type(self).model_fields.items()
                   if name not in self.hidden_fields)

    def query_string(self) -> str:
        """The filter as URL parameters (for the export link and paging), defaults left out."""
        data = QueryDict(mutable=True)
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value == field.default or value is None:
                continue
            if isinstance(value, list):
                data.setlist(name, [str(getattr(v, "value", v)) for v in value])
            elif isinstance(value, bool):
                data[name] = "true"
            else:
                data[name] = str(getattr(value, "value", value))
        return data.urlencode()

    def form(self, *, choices: Mapping[str, Any] | None = None) -> forms.Form:
        """A Django form showing this filter (for display: the values are this object's)."""
        choices = choices or {}
        fields: dict[str, forms.Field] = {}
        initial: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            if name in self.hidden_fields:
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            fields[name] = self._form_field(info.annotation, extra, choices.get(name))
            value = getattr(self, name)
            initial[name] = getattr(value, "value", value)
        form_class = type(f"{type(self).__name__}Form", (forms.Form,), fields)
        form = form_class(initial=initial)
        for name, field in form.fields.items():
            if isinstance(field.widget, AutocompleteWidget):
                bind_autocomplete(form, name, choices.get(name))
            _style(field)
        return form

    @staticmethod
    def _form_field(annotation: Any, extra: Mapping[str, Any], options: Any) -> forms.Field:
        label = extra.get("label", "")
        widget = extra.get("widget")
        kind = _base_type(annotation)
        common: dict[str, Any] = {"label": label, "required": False}
        if widget == "autocomplete":
            return IdChoiceField(queryset=options, widget=AutocompleteWidget(url=reverse_lazy(extra["url"])), **common)
        if options is not None and hasattr(options, "model"):
            return IdChoiceField(queryset=options, widget=QuickSelect, **common)
        if options is not None:
            return forms.ChoiceField(choices=[("", "—"), *options], widget=QuickSelect, **common)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            enum_choices = getattr(kind, "choices", None) or [(m.value, m.name) for m in kind]
            return forms.ChoiceField(choices=[("", "—"), *enum_choices], widget=QuickSelect, **common)
        if kind is bool or widget == "check":
            return forms.BooleanField(**common)
        if widget == "date":
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        text = forms.CharField(**common)
        if placeholder := extra.get("placeholder"):
            text.widget.attrs["placeholder"] = placeholder
        text.widget.attrs.setdefault("autocomplete", "off")
        return text


def _style(field: forms.Field) -> None:
    """Tabler's classes on a filter bar's inputs."""
    widget = field.widget
    if isinstance(widget, forms.CheckboxInput):
        widget.attrs.setdefault("class", "form-check-input")
    elif not isinstance(widget, forms.HiddenInput | AutocompleteWidget):
        widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")
