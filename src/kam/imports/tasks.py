"""Imports run in the background worker; the pages poll the job for progress."""

from django_tasks import task

from kam.imports.services import import_job_check, import_job_run


@task()
def check_import(job_id: int) -> None:
    import_job_check(job_id=job_id)


@task()
def run_import(job_id: int) -> None:
    import_job_run(job_id=job_id)
