"""The one place where domain errors become web responses, and shared view plumbing.

Pages never catch NotVisible or PermissionDenied: `DomainErrorMiddleware` answers them — a 404
page or a 403 page in the site's layout (a short alert for an htmx request) — and a list's bad
`cursor` (InvalidCursor) with a 400 page. A refusal that
belongs on a form lands there through `form_errors`, one without a form becomes a message
through `message_errors`. Under /api/ the API's own handlers answer (kam.api.main).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kam.core.errors import DomainError, NotVisible, PermissionDenied
from kam.core.paging import InvalidCursor, ListPage


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request: HttpRequest) -> str:
    """Where the user came from, when that is a page of this site; else the home page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return "/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page in the site's layout (handler404 too): nothing says whether the id exists."""
    template = "_refused.html" if is_htmx(request) else "404.html"
    return render(request, template, {"kind": "not_found", "back": _back(request)}, status=404)


def refused(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page in the site's layout (handler403 too): what was refused and where to go."""
    message = getattr(exception, "message", None) or (str(exception) if exception and str(exception) else "")
    template = "_refused.html" if is_htmx(request) else "403.html"
    return render(request, template, {"kind": "refused", "message": message or _("You may not do this."),
                                      "back": _back(request)}, status=403)


class DomainErrorMiddleware:
    """Turns a view's NotVisible into the 404 page and a PermissionDenied (KAM's or Django's)
    into the 403 page; other domain errors are the view's to place (`form_errors`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotVisible):
            return not_found(request, exception)
        if isinstance(exception, PermissionDenied | DjangoPermissionDenied):
            return refused(request, exception)
        if isinstance(exception, InvalidCursor):
            return bad_cursor(request, exception)
        return None


@contextmanager
def form_errors(form: forms.Form) -> Iterator[None]:
    """Run a service call; a refusal it raises (other than not visible / not allowed, which the
    middleware answers) is shown on `form` and the code after the `with` block runs."""
    try:
        yield
    except (NotVisible, PermissionDenied):
        raise
    except DomainError as exc:
        attach_domain_error(form, exc)


@contextmanager
def message_errors(request: HttpRequest) -> Iterator[None]:
    """Run a service call; a refusal it raises becomes an error message on the next page."""
    try:
        yield
    except (NotVisible, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)


def attach_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a domain error on the form: field messages under their fields, the rest on top."""
    placed = False
    for field, field_messages in (exc.errors or {}).items():
        for message in field_messages:
            if field in form.fields:
                form.add_error(field, message)
                placed = True
    if not placed or exc.errors.keys() - form.fields.keys():
        form.add_error(None, exc.message)


def paginate(request: HttpRequest, queryset: Any, per_page: int | None = None, *, count: int | None = None,
             count_from: Any = None) -> ListPage:
    """One page of a list, PAGE_SIZE rows unless told otherwise: `?page=` for the numbered first
    pages (past the end clamps), `?cursor=` beyond them (kam.core.paging). Counts once, unless
    the caller knows the `count` already (from a read model); `count_from`: the same rows as a
    queryset cheaper to count (its visibility looked up rather than compared row by row)."""
    return ListPage(request, queryset, per_page, count=count, count_from=count_from)


def bad_cursor(request: HttpRequest, exception: InvalidCursor) -> HttpResponse:
    """A list's `cursor` that this site did not make: a 400 page naming the parameter, with the
    list's first page one click away."""
    query = request.GET.copy()
    for key in ("page", exception.parameter):
        query.pop(key, None)
    first = f"{request.path}?{query.urlencode()}" if query else request.path
    template = "_refused.html" if is_htmx(request) else "bad_cursor.html"
    return render(request, template, {"kind": "bad_cursor", "message": exception.message, "first": first,
                                      "back": _back(request)}, status=400)


MAX_ID = 2**63 - 1


class IdChoiceField(forms.ModelChoiceField):
    """A model choice whose id is checked for range before the database sees it."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            text = str(value).strip()
            if not text.isdigit() or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def _option_label(label: Any) -> Any:
    """As templates/django/forms/widgets/select_option.html: the empty choice reads as a dash."""
    return "—" if label == "---------" else label


class QuickSelect(forms.Select):
    """A select rendered in Python instead of through a template for each option: the filter
    bars of the lists (industries, regions, units, tiers) are drawn on every list page, and
    Django's per-option templates and option dictionaries were a fifth of the page's time. The
    same HTML, escaped the same way, the first matching option selected as Django selects it;
    grouped choices go through Django's templates."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        choices = [choice for choice in self.choices]  # one query for a model choice (list() would count first)
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        options, has_selected = [], False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            selected = (not has_selected or self.allow_multiple_selected) and text in chosen
            has_selected |= selected
            options.append((text, " selected" if selected else "", _option_label(label)))
        select_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            select_attrs["multiple"] = True
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(select_attrs),
                           format_html_join("", '<option value="{}"{}>{}</option>', options))


class AutocompleteWidget(forms.Widget):
    """A search box that asks the server for matches and keeps the chosen id in a hidden input.

    Never renders the list of all rows: only the currently chosen one is looked up.
    """

    template_name = "widgets/autocomplete.html"

    def __init__(self, url: str | Promise, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.url = url
        self.queryset: Any = None

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        label = ""
        if value not in (None, "") and self.queryset is not None:
            chosen = self.queryset.filter(pk=value).first()
            label = str(chosen) if chosen is not None else ""
        context["widget"].update({"url": self.url, "label": label, "placeholder": _("Type to search…")})
        return context


def bind_autocomplete(form: forms.Form, name: str, queryset: Any) -> None:
    field: Any = form.fields[name]
    field.queryset = queryset
    field.widget.queryset = queryset


class IdConverter:
    """A database id in a URL: at most 18 digits, so it always fits a 64-bit column."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(value)
