"""Columns an importer understands, and which file header means which column.

Columns are derived from the model's fields, so a field's length, choices and
validators are the import's rules too; the headers recognised are the field's name
and its label in Chinese and English, plus the words departments commonly use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation

from kam.core.validators import validate_name
from kam.imports import cells

LANGUAGES = ("zh-hans", "en")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_NOISE = re.compile(r"[\s\u3000*＊:：_\-—/·.]+")


def header_key(header: str) -> str:
    """客户名称* / 客户名称（必填） / Customer Name all compare by this key."""
    text = unicodedata.normalize("NFKC", header or "").lower()
    text = _BRACKETED.sub("", text)
    return _NOISE.sub("", text)


@dataclass(frozen=True)
class Column:
    name: str
    label: Any  # lazy translation
    parse: Callable[[Any], Any]
    headers: frozenset[str] = field(default_factory=frozenset)
    required: bool = False  # required when a row creates a record
    help: str = ""


def _labels(text) -> list[str]:
    found = []
    for language in LANGUAGES:
        with translation.override(language):
            found.append(str(text))
    return found


def _choice_words(choices) -> list[tuple[str, list[str]]]:
    # A blank choice ("not yet signed") is listed last, so messages name the real ones first.
    words = [(value, _labels(label)) for value, label in choices if value != ""]
    return words + [(value, _labels(label)) for value, label in choices if value == ""]


def parser_for(model_field: models.Field) -> Callable[[Any], Any]:
    """The cell parser matching a model field's type and limits."""
    if model_field.choices:
        return cells.choice(_choice_words(model_field.choices))
    if isinstance(model_field, models.BooleanField):
        return cells.boolean
    if isinstance(model_field, models.DecimalField):
        return cells.decimal(model_field.max_digits, model_field.decimal_places)
    if isinstance(model_field, models.PositiveIntegerField | models.PositiveSmallIntegerField):
        return cells.integer(0)
    if isinstance(model_field, models.IntegerField):
        return cells.integer(-2_147_483_648)
    if isinstance(model_field, models.DateField):
        return cells.a_date
    if isinstance(model_field, models.EmailField):
        return cells.email(model_field.max_length)
    if isinstance(model_field, models.URLField):
        return cells.url(model_field.max_length)
    if validate_name in model_field.validators:
        return cells.name(model_field.max_length)
    return cells.text(model_field.max_length)


def model_columns(
    model: type[models.Model],
    names: Iterable[str],
    *,
    aliases: dict[str, Iterable[str]] | None = None,
    parsers: dict[str, Callable[[Any], Any]] | None = None,
    required: Iterable[str] = (),
) -> list[Column]:
    aliases, parsers, required = aliases or {}, parsers or {}, set(required)
    columns = []
    for name in names:
        model_field = model._meta.get_field(name)
        words = [name, *_labels(model_field.verbose_name), *aliases.get(name, ())]
        columns.append(
            Column(
                name=name,
                label=model_field.verbose_name,
                parse=parsers.get(name) or parser_for(model_field),
                headers=frozenset(header_key(w) for w in words),
                required=name in required,
            )
        )
    return columns


@dataclass
class Mapping:
    """File column index → importer column name, and what could not be placed."""

    columns: dict[int, str]
    unknown: list[str]
    missing_required: list[str]
    repeated: list[str]


def map_headers(headers: list[str], columns: list[Column], chosen: dict[str, str] | None = None) -> Mapping:
    """Match file headers to columns. `chosen` (header → column name or "" to ignore),
    from the user or a saved template, wins over recognition."""
    by_key = {h: c.name for c in columns for h in c.headers}
    known = {c.name for c in columns}
    chosen = chosen or {}
    placed: dict[int, str] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, header in enumerate(headers):
        if header in chosen:
            target = chosen[header]
            target = target if target in known else ""
        else:
            target = by_key.get(header_key(header), None)
            if target is None:
                if header:
                    unknown.append(header)
                continue
        if not target:
            continue
        if target in placed.values():
            repeated.append(header)
            continue
        placed[index] = target
    missing = [c.name for c in columns if c.required and c.name not in placed.values()]
    return Mapping(columns=placed, unknown=unknown, missing_required=missing, repeated=repeated)
