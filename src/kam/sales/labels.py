"""Filter-bar labels that are translated when shown and plain text in the OpenAPI schema.

A `ListFilter` field's `json_schema_extra` goes into /api/openapi.json, which cannot hold a
lazy translation (the schema fails to serialise), while the filter bar needs the label in
the user's language. `Label("status")` is the English text as a str (what the schema shows)
that becomes its translation whenever a page turns it into text.
"""

from __future__ import annotations

from django.utils.translation import gettext


class Label(str):
    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __html__(self) -> str:
        return str(self)
