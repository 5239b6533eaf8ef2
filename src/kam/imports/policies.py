"""Who may start an import of which kind, and who may act on an import job (map its columns,
have it checked, confirm, cancel or resume it). Services enforce these; the pages ask them.

Which kind a user may import is the rule of the app that owns the rows: each importer names
its policy (`Importer.import_policy`), e.g. accounts and contacts are written only by the roles
that keep accounts. A job is acted on by the person who uploaded it only: administrators see
every job (they help with failed imports) but do not run other people's imports."""

from __future__ import annotations

from typing import Any

from kam.core.errors import ValidationFailed
from kam.core.policies import is_active_user
from kam.imports.kinds import importer_class
from kam.imports.models import ImportJob


def may_start_import(user: Any, kind: str | None = None) -> bool:
    """Whether `user` may upload a file to import (of `kind`, when given)."""
    if not is_active_user(user):
        return False
    if kind is None:
        return True
    try:
        importer = importer_class(kind)
    except ValidationFailed:
        return False
    return bool(importer.import_policy(user))


def may_run_job(user: Any, job: ImportJob) -> bool:
    """Map, check, confirm, cancel or resume `job`: its uploader, while they may import its kind."""
    return is_active_user(user) and job.user_id == user.pk and may_start_import(user, job.kind)
