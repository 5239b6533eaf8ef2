"""What the benchmarks share: their own database directory and the timed path of `kam import`."""

from __future__ import annotations

import os
import time
from pathlib import Path


def setup(home: str) -> None:
    """Django on the benchmark's own data directory, whatever KAM_HOME says (`make` exports
    KAM_HOME=var, the app's own data): the benchmarks delete what their database holds.
    Tasks go to the dummy backend: an import's confirm only records the job as queued and
    the benchmark runs it itself, in this process."""
    resolved = Path(home).resolve()
    if resolved in {Path("var").resolve(), Path(os.environ.get("KAM_HOME", "var")).resolve()}:
        raise SystemExit(f"--home {home} is the app's own data directory; give the benchmark its own.")
    os.environ["KAM_HOME"] = str(resolved)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    import django

    django.setup()


def timed_import(actor, kind: str, filename: str, data: bytes):
    """The path of `kam import`, mode "valid rows": upload (keeping the table it read for the
    check, as the command line does) → check → confirm → run. Returns (job, phase seconds)."""
    from kam.imports.models import ImportJob
    from kam.imports.services import (
        import_job_check,
        import_job_confirm,
        import_job_create,
        import_job_run,
    )

    phases = {}
    start = time.perf_counter()
    job = import_job_create(actor=actor, kind=kind, filename=filename, data=data, keep_table=True)
    phases["upload"] = time.perf_counter() - start
    mark = time.perf_counter()
    job = import_job_check(job_id=job.pk)
    phases["check"] = time.perf_counter() - mark
    mark = time.perf_counter()
    job = import_job_confirm(actor=actor, job=job, mode="valid")
    job = import_job_run(job_id=job.pk)
    phases["run"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - start
    return ImportJob.objects.get(pk=job.pk), phases
