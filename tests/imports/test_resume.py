"""An import whose background worker died shows as interrupted, with rows done of total and a
Resume button for its owner; resuming goes on after the last committed batch to exact counts.
A job waiting while no worker is alive says so, and the page polls until the result is there."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from factories import PASSWORD
from kam.accounts.models import Account
from kam.core import workers
from kam.core.errors import Conflict
from kam.core.models import WorkerHeartbeat
from kam.imports import services
from kam.imports.models import ImportJob, JobState
from spreadsheets import csv_bytes

ROWS, BATCH = 23, 5
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Killed(BaseException):
    """The process died here: no handler of the import sees it, as with SIGKILL."""


def accounts_file(rows: int = ROWS) -> bytes:
    return csv_bytes([["客户编号", "客户名称", "渠道"],
                      *([f"RES{n:04d}", f"续传测试客户{n}号", "商业客户"] for n in range(rows))])


def _worker(*, dead: bool) -> str:
    """This test process as a registered worker, alive or killed (as kam serve records it)."""
    me = workers.worker_id()
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker_id=me, defaults={
        "host": workers.host_name(), "pid": os.getpid(), "started_at": now - timedelta(minutes=1), "beat_at": now,
        "stopped_at": now if dead else None, "stop_reason": "killed by SIGKILL" if dead else ""})
    return me


@pytest.fixture
def small_batches(settings):
    settings.KAM = {**settings.KAM, "IMPORT_BATCH_ROWS": BATCH}


@pytest.fixture
def killed_import(org, small_batches, django_capture_on_commit_callbacks):
    """A specialist's import of ROWS accounts whose worker was killed after two batches."""

    def make(*, worker_dead: bool = True) -> ImportJob:
        actor = org.specialist_a
        job = services.import_job_create(actor=actor, kind="accounts", filename="续传.csv", data=accounts_file())
        job = services.import_job_check(job_id=job.pk)
        with django_capture_on_commit_callbacks(execute=False):  # the run is ours to start
            services.import_job_confirm(actor=actor, job=job, mode="valid")
        batches = []

        def die_on_the_third_batch(phase, done, total):
            batches.append(done)
            if len(batches) == 3:
                raise Killed

        with pytest.raises(Killed):
            services.import_job_run(job_id=job.pk, progress=die_on_the_third_batch)
        _worker(dead=worker_dead)
        job.refresh_from_db()
        assert job.state == JobState.RUNNING and job.rows_done == 2 * BATCH == Account.objects.count()
        return job

    return make


# --- the service ----------------------------------------------------------------------------

def test_an_import_whose_worker_died_resumes_after_its_last_batch_to_exact_counts(
        org, killed_import, django_capture_on_commit_callbacks):
    # given an import killed after two batches of five
    job = killed_import()
    assert services.import_job_interrupted(job)

    # when its owner resumes it (the background task runs at once here)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_resume(actor=org.specialist_a, job=job)

    # then it finished with every row exactly once
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.rows_done == job.total_rows == ROWS
    assert job.created == ROWS and Account.objects.count() == ROWS
    assert Account.objects.values("code").distinct().count() == ROWS
    assert not services.import_job_interrupted(job)


def test_resuming_is_refused_while_the_worker_is_alive(org, killed_import):
    # given an import whose worker still beats
    job = killed_import(worker_dead=False)
    assert not services.import_job_interrupted(job)

    # then resuming it is refused with a reason, and nothing changes
    with pytest.raises(Conflict, match="still alive"):
        services.import_job_resume(actor=org.specialist_a, job=job)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.rows_done == 2 * BATCH


def test_a_finished_import_is_not_resumable(org, run_import):
    job = run_import(org.specialist_a, "accounts", "a.csv", accounts_file(3))
    with pytest.raises(Conflict, match="not interrupted"):
        services.import_job_resume(actor=org.specialist_a, job=job)


def test_a_run_thought_dead_writes_nothing_more_once_another_took_the_job_over(org, killed_import):
    # given an interrupted import that this process runs on
    job = killed_import()
    before = Account.objects.count()

    def taken_over_after_one_batch(phase, done, total):
        if done > before:  # a batch was written: meanwhile the job is resumed by another run
            ImportJob.objects.filter(pk=job.pk).update(worker="other-host:99")

    # when this run reaches its next batch
    services.import_job_run(job_id=job.pk, progress=taken_over_after_one_batch)

    # then that batch was rolled back: one more batch written, and the job left to the other run
    job.refresh_from_db()
    assert job.worker == "other-host:99" and job.state == JobState.RUNNING
    assert Account.objects.count() == before + BATCH == job.rows_done


# --- the pages ------------------------------------------------------------------------------

def test_the_pages_show_the_interrupted_import_and_its_owner_resumes_it(
        org, client, killed_import, django_capture_on_commit_callbacks):
    # given an import killed after two batches
    job = killed_import()
    client.login(username="spec_a", password=PASSWORD)

    # then its page says interrupted, rows done of total, offers Resume and stops polling
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="interrupted"' in page and "Interrupted" in page
    assert f"{2 * BATCH} of {ROWS} rows written" in page
    assert f'action="/imports/{job.pk}/resume/"' in page and 'data-testid="resume"' in page
    assert "hx-trigger" not in page
    # and so does the list, with the same button
    listing = client.get("/imports/").content.decode()
    assert 'data-testid="interrupted"' in listing and f"{2 * BATCH} / {ROWS}" in listing
    assert f'action="/imports/{job.pk}/resume/"' in listing

    # when the owner presses Resume
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/resume/")

    # then the import finished with exact counts, and the page shows the result
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.created == ROWS and Account.objects.count() == ROWS
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="result"' in page and 'data-testid="interrupted"' not in page


@pytest.mark.parametrize("username", ["spec_b", "admin"])
def test_nobody_but_the_owner_may_resume(org, client, killed_import, username):
    # given someone else's interrupted import (the admin may look at it, the other branch not)
    job = killed_import()
    client.login(username=username, password=PASSWORD)

    # then resuming it is not found, and it stays where it was
    assert client.post(f"/imports/{job.pk}/resume/").status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.rows_done == 2 * BATCH
    if username == "admin":
        page = client.get(f"/imports/{job.pk}/").content.decode()
        assert "Interrupted" in page and 'data-testid="resume"' not in page


def test_resuming_a_live_import_on_the_page_says_why_not(org, client, killed_import):
    job = killed_import(worker_dead=False)
    client.login(username="spec_a", password=PASSWORD)
    page = client.post(f"/imports/{job.pk}/resume/", follow=True).content.decode()
    assert "still alive" in page
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_a_check_whose_worker_died_is_checked_again(org, client, django_capture_on_commit_callbacks):
    # given an upload whose check was taken up by a worker that then died
    client.login(username="spec_a", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile("查.csv", accounts_file(4))})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(worker=_worker(dead=True))

    # then its page says the check was interrupted and offers to check again
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "The check was interrupted" in page and "Check again" in page

    # when the owner checks again, the preview is there
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/resume/")
    job.refresh_from_db()
    assert job.state == JobState.CHECKED and job.preview["counts"]["create"] == 4


# --- no worker, and polling -----------------------------------------------------------------

def test_an_upload_polls_and_says_when_no_worker_is_running(org, client, settings):
    # given tasks that wait for a worker, and no worker
    settings.TASKS = DB_TASKS
    client.login(username="spec_a", password=PASSWORD)

    # when a file is uploaded
    response = client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile("a.csv", accounts_file(3))})
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"

    # then the page waits for the check, polling, and says no worker is running
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-testid="waiting"' in page
    assert "No background worker is running; the import starts when one runs" in page and "kam worker" in page
    assert "Choose the columns" not in page
    assert 'data-testid="no-worker"' in client.get("/imports/").content.decode()

    # when a worker is alive the notice goes, the waiting stays
    _worker(dead=False)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="waiting"' in page and 'data-testid="no-worker"' not in page


def test_the_columns_page_says_when_no_worker_would_check_the_file(org, client, settings):
    settings.TASKS = DB_TASKS
    client.login(username="spec_a", password=PASSWORD)
    response = client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile(
        "c.csv", csv_bytes([["客户名称", "不认识的列"], ["列映射公司", "x"]]))})
    assert response["Location"].endswith("/columns/")
    assert 'data-testid="no-worker"' in client.get(response["Location"]).content.decode()


def test_a_queued_import_says_when_no_worker_is_running(org, client, settings, run_import):
    # given a checked file, confirmed while tasks wait for a worker that is not there
    job = run_import(org.specialist_a, "accounts", "q.csv", accounts_file(3), confirm=False)
    settings.TASKS = DB_TASKS
    client.login(username="spec_a", password=PASSWORD)
    client.post(f"/imports/{job.pk}/confirm/", {"mode": "all"})
    job.refresh_from_db()
    assert job.state == JobState.QUEUED

    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="no-worker"' in page and 'hx-trigger="every 1s"' in page


def test_the_scheme_page_says_when_no_worker_computes_snapshots(org, client, settings):
    settings.TASKS = DB_TASKS
    client.login(username="admin", password=PASSWORD)
    assert "No background worker is running" in client.get("/tiering/pareto-abc/").content.decode()
    _worker(dead=False)
    assert "No background worker is running" not in client.get("/tiering/pareto-abc/").content.decode()


def test_the_polled_status_turns_into_the_preview_without_a_reload(org, client, django_capture_on_commit_callbacks):
    # given an upload whose check has not run yet
    client.login(username="spec_a", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile("p.csv", accounts_file(3))})
    job = ImportJob.objects.get()
    partial = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="checking"' in partial and 'hx-trigger="every 1s"' in partial

    # when the worker has checked it
    for callback in pending:
        callback()

    # then the next poll brings the preview and the confirm form, and polls no more
    partial = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-state="checked"' in partial
    assert 'data-testid="preview"' in partial and 'data-testid="confirm-form"' in partial
    assert "hx-trigger" not in partial
