from __future__ import annotations

import pytest

from kam.imports import services
from kam.imports.models import ImportJob, JobState


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """Upload → check → confirm → run, as the pages do, with background tasks run inline."""

    def run(actor, kind: str, filename: str, data: bytes, *, mode: str = "all", confirm: bool = True,
            include_duplicates: bool = False) -> ImportJob:
        job = services.import_job_create(actor=actor, kind=kind, filename=filename, data=data)
        job = services.import_job_check(job_id=job.pk)
        if not confirm:
            return job
        if mode == "all":
            assert not job.preview["counts"]["invalid"], job.preview["issues"]
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_confirm(actor=actor, job=job, mode=mode, include_duplicates=include_duplicates)
        job.refresh_from_db()
        assert job.state in (JobState.DONE, JobState.REJECTED, JobState.FAILED), job.state
        return job

    return run
