"""Read side of imports: a user's own jobs (admins: all)."""

from __future__ import annotations

from django.db.models import QuerySet

from kam.imports.models import ImportJob, MappingTemplate


def import_jobs(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.visible_to(user).select_related("user")


def import_job_get(*, user, pk: int) -> ImportJob | None:
    return import_jobs(user=user).filter(pk=pk).first()


def mapping_templates(*, user) -> QuerySet[MappingTemplate]:
    return MappingTemplate.objects.filter(user=user).order_by("kind", "name")
