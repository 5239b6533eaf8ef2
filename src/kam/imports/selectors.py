"""Read side of imports: a user's own jobs (admins: all)."""

from __future__ import annotations

from django.db.models import QuerySet

from kam.core.models import User
from kam.imports.models import ImportJob, MappingTemplate


def import_jobs(*, user: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.visible_to(user).select_related("user")


def import_job_get(*, user: User, pk: int) -> ImportJob | None:
    return import_jobs(user=user).filter(pk=pk).first()


def mapping_templates(*, user: User) -> QuerySet[MappingTemplate]:
    return MappingTemplate.objects.filter(user=user).order_by("kind", "name")
