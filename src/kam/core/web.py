"""The one place where domain errors become web responses, and shared view plumbing."""

from __future__ import annotations

from django import forms
from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from kam.core.errors import DomainError


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def attach_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a domain error on the form: field messages under their fields, the rest on top."""
    placed = False
    for field, messages in (exc.errors or {}).items():
        for message in messages:
            if field in form.fields:
                form.add_error(field, message)
                placed = True
    if not placed or exc.errors.keys() - form.fields.keys():
        form.add_error(None, exc.message)


class OneCountPaginator(Paginator):
    """Counts once per page, never for an empty filter twice; pages past the end clamp."""

    @cached_property
    def count(self):
        return self.object_list.count()


def paginate(request, queryset, per_page: int) -> Page:
    return OneCountPaginator(queryset, per_page).get_page(request.GET.get("page"))


MAX_ID = 2**63 - 1


class IdChoiceField(forms.ModelChoiceField):
    """A model choice whose id is checked for range before the database sees it."""

    def to_python(self, value):
        if value not in self.empty_values:
            text = str(value).strip()
            if not text.isdigit() or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class AutocompleteWidget(forms.Widget):
    """A search box that asks the server for matches and keeps the chosen id in a hidden input.

    Never renders the list of all rows: only the currently chosen one is looked up.
    """

    template_name = "widgets/autocomplete.html"

    def __init__(self, url: str, attrs=None):
        super().__init__(attrs)
        self.url = url
        self.queryset = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = ""
        if value not in (None, "") and self.queryset is not None:
            chosen = self.queryset.filter(pk=value).first()
            label = str(chosen) if chosen is not None else ""
        context["widget"].update({"url": self.url, "label": label, "placeholder": _("Type to search…")})
        return context


def bind_autocomplete(form: forms.Form, name: str, queryset) -> None:
    field = form.fields[name]
    field.queryset = queryset
    field.widget.queryset = queryset


class IdConverter:
    """A database id in a URL: at most 18 digits, so it always fits a 64-bit column."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
