"""Optimistic locking over HTTP: the one rule for every versioned write.

A client sends the version it read, as `If-Match: <version>` (a quoted or weak ETag form is
accepted too) or as `version` in the body; the header wins. A write against a version that is no
longer current answers 412 Precondition Failed with the current version, and changes nothing."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from kam.core.errors import ValidationFailed


def if_match(request: HttpRequest, body_version: int | None, *, required: bool = False) -> int | None:
    """The version the client read: the If-Match header, else the body's `version`."""
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip().strip('"')
    if header:
        if not header.isdigit() or len(header) > 18:
            raise ValidationFailed(_("If-Match must be the version number."),
                                   errors={"If-Match": [_("not a version number")]})
        return int(header)
    if body_version is None and required:
        raise ValidationFailed(_("Send the version you read (If-Match or version)."),
                               errors={"version": [_("This field is required.")]})
    return body_version
