"""Import jobs: upload, map columns, check (preview), confirm, run, resume.

The same functions serve the web pages, the background tasks and `kam import`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.core import workers
from kam.core.conf import config
from kam.core.errors import Conflict, DomainError, NotVisible, ValidationFailed
from kam.core.models import User
from kam.core.policies import require
from kam.imports import policies
from kam.imports.columns import Mapping, map_headers
from kam.imports.engine import (
    Action,
    Importer,
    ImportRejected,
    Outcome,
    Row,
    execute,
    parse_rows,
    preview,
)
from kam.imports.guard import check_size
from kam.imports.kinds import IMPORTERS as IMPORTERS  # the kinds, for callers of the services
from kam.imports.kinds import importer_class
from kam.imports.models import ImportJob, ImportKind, ImportMode, JobState, MappingTemplate
from kam.imports.readers import Table, read_table
from kam.imports.reports import error_report

logger = logging.getLogger(__name__)

COUNT_FIELDS = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.UNCHANGED: "unchanged",
    Action.DUPLICATE: "duplicates",
    Action.REFUSED: "refused",
    Action.INVALID: "invalid",
}

Progress = Callable[[str, int, int], None]


def _importer(job: ImportJob) -> Importer:
    return importer_class(job.kind)(actor=job.user, include_duplicates=job.include_duplicates, **job.options)


# The table an upload read, kept when the check follows in the same process (the command
# line): the file is then read once. Keyed by its content and name.
_uploaded: dict[str, tuple] = {}


def job_table(job: ImportJob) -> Table:
    key, table = _uploaded.pop("last", (None, None))
    if key == (job.sha256, job.filename):
        return table
    with job.file.open("rb") as handle:
        data = handle.read()
    return read_table(data, job.filename, max_rows=config().IMPORT_MAX_ROWS)


def job_mapping(job: ImportJob, table: Table | None = None) -> Mapping:
    table = table or job_table(job)
    return map_headers(table.headers, importer_class(job.kind).columns, job.mapping)


def _file_name(filename: str) -> str:
    return os.path.basename(filename.replace("\\", "/"))[:200] or "import"


def import_job_create(
    *, actor: User, kind: str, filename: str, data: bytes, template: MappingTemplate | None = None,
    options: dict | None = None, keep_table: bool = False,
) -> ImportJob:
    """Store the upload and read its header. A file that cannot be read — or that the upload
    limits refuse (kam.imports.guard) — is refused here, before anything is written.
    The file is read outside any transaction (it may take seconds, and a write lock held that
    long would stall every other writer); the job is then stored in one short transaction.
    `keep_table`: the mapping or the check follows in this process: keep what was read."""
    importer_class(kind)
    require(policies.may_start_import(actor, kind),
            _("You may not import %(kind)s.") % {"kind": importer_class(kind).label})
    check_size(len(data))
    filename = _file_name(filename)
    if template is not None and (template.user_id != actor.pk or template.kind != kind):
        raise NotVisible(_("Not found."))
    table = read_table(data, filename, max_rows=config().IMPORT_MAX_ROWS)
    job = ImportJob(
        kind=kind, user=actor, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding, mapping=dict(template.mapping) if template else {},
        total_rows=len(table.rows), options=_options(kind, options or {}),
    )
    job.preview = {"headers": table.headers}
    job.file.save(filename, ContentFile(data), save=False)
    with transaction.atomic():
        job.save()
    _uploaded.clear()
    if keep_table:
        _uploaded["last"] = ((job.sha256, filename), table)
    return job


OPTIONS: dict[str, set[str]] = {ImportKind.REVENUE: {"create_accounts"}}


def _options(kind: str, options: dict[str, Any]) -> dict[str, bool]:
    if unknown := set(options) - OPTIONS.get(kind, set()):
        raise ValidationFailed(_("Unknown import options: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    return {name: bool(value) for name, value in options.items()}


def _job_for(actor: User, job_id: int, *, lock: bool = False) -> ImportJob:
    """The job `actor` may act on. Someone else's job is not found, for an administrator who
    sees it too: nothing tells whether it exists."""
    qs = ImportJob.objects.visible_to(actor)
    if lock:
        qs = qs.select_for_update()
    job = qs.filter(pk=job_id).first()
    if job is None or not policies.may_run_job(actor, job):
        raise NotVisible(_("Not found."))
    return job


@transaction.atomic
def import_job_map(*, actor: User, job: ImportJob, mapping: dict[str, str], template_name: str = "") -> ImportJob:
    """Record the user's choice of column for each file header; optionally save it as a template."""
    job = _job_for(actor, job.pk, lock=True)
    if job.state not in (JobState.UPLOADED, JobState.CHECKED):
        raise Conflict(_("This import has started; its columns can no longer change."))
    columns = {c.name for c in importer_class(job.kind).columns}
    headers = set(job.preview.get("headers", []))
    bad = {h: v for h, v in mapping.items() if h not in headers or (v and v not in columns)}
    if bad:
        raise ValidationFailed(
            _("Please correct the errors below."),
            errors={h: [_("Choose one of the listed columns.")] for h in bad},
        )
    job.mapping = dict(mapping)
    result = map_headers(job.preview["headers"], importer_class(job.kind).columns, job.mapping)
    if result.repeated:
        raise ValidationFailed(
            _("Two file columns are mapped to the same field: %(headers)s.") % {"headers": "、".join(result.repeated)},
            errors={h: [_("Already mapped by another column.")] for h in result.repeated},
        )
    if template_name := template_name.strip():
        MappingTemplate.objects.update_or_create(
            user=actor, kind=job.kind, name=template_name[:80], defaults={"mapping": job.mapping}
        )
    job.state = JobState.UPLOADED
    job.save(update_fields=["mapping", "state"])
    return job


def mapping_problems(job: ImportJob, mapping: Mapping) -> list[str]:
    importer = importer_class(job.kind)
    labels = {c.name: str(c.label) for c in importer.columns}
    problems = [_("Required column missing: %(column)s.") % {"column": labels[name]} for name in mapping.missing_required]
    problems += [_("Column %(header)s repeats a column already mapped.") % {"header": h} for h in mapping.repeated]
    if importer.needs_one_of and not set(importer.needs_one_of) & set(mapping.columns.values()):
        problems.append(_("The file needs one of these columns: %(columns)s.")
                        % {"columns": "、".join(labels[name] for name in importer.needs_one_of)})
    return problems


def _save_report(job: ImportJob, headers: list[str], rows: list[Row]) -> None:
    if job.report:
        job.report.delete(save=False)
    if rows:
        stem = os.path.splitext(job.filename)[0][:80]
        job.report.save(f"{stem}-errors.xlsx", ContentFile(error_report(headers, rows)), save=False)


def _summary(outcome: Outcome, headers: list[str], mapping: Mapping | None = None) -> dict:
    limit = config().IMPORT_PREVIEW_ISSUES
    return {
        "headers": headers,
        "ignored": list(mapping.unknown) if mapping else [],
        "counts": {str(k): outcome.counts.get(k, 0) for k in Action},
        "issues": [issue.as_dict() for issue in outcome.issues[:limit]],
        "issue_count": len(outcome.issues),
    }


def _progress_writer(job: ImportJob, progress: Progress | None, phase: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(progress_done=done, heartbeat_at=timezone.now())
        if progress:
            progress(phase, done, total)

    return report


# The rows parsed by a check, kept for the run that usually follows in the same process
# (the command line, or the worker that ran the check): reading and parsing a large
# workbook is most of an import's time. One job at a time; keyed by its file and mapping.
_parsed: dict[str, tuple] = {}


def _parse_key(job: ImportJob) -> tuple:
    return (job.pk, job.sha256, json.dumps(job.mapping, sort_keys=True), json.dumps(job.options, sort_keys=True))


def _remember(job: ImportJob, importer: Importer, rows: list[Row]) -> None:
    _parsed.clear()
    _parsed["last"] = (_parse_key(job), importer, rows, job.preview.get("headers") or [])


def _recall(job: ImportJob) -> tuple[Importer, list[Row], Table]:
    key, importer, rows, headers = _parsed.pop("last", (None, None, None, None))
    if key == _parse_key(job) and importer.actor.pk == job.user_id:
        importer.include_duplicates = job.include_duplicates
        return importer, rows, Table(headers=headers, rows=[])
    table = job_table(job)
    importer = _importer(job)
    return importer, parse_rows(importer, table, job_mapping(job, table)), table


def import_job_check(*, job_id: int, progress: Progress | None = None) -> ImportJob:
    """The preview: what every row would do. Writes nothing but the job's own record: a short
    transaction takes the job, the file is read and checked with none open (progress is single
    autocommitted updates), and a last short transaction stores the result."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.state not in (JobState.UPLOADED, JobState.CHECKING, JobState.CHECKED):
            raise Conflict(_("This import has already started."))
        if job.state == JobState.CHECKING and job.worker and not _worker_gone(job):
            raise Conflict(_("This file is being checked."))
        # Who checks it, so a check whose worker died shows as interrupted.
        job.state, job.progress_done, job.worker = JobState.CHECKING, 0, workers.worker_id()
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "progress_done", "worker", "heartbeat_at"])
    try:
        table = job_table(job)
        mapping = job_mapping(job, table)
        if problems := mapping_problems(job, mapping):
            raise ValidationFailed(" ".join(problems), errors={"mapping": problems})
        importer = _importer(job)
        rows = parse_rows(importer, table, mapping)
        _remember(job, importer, rows)
        outcome = preview(importer, rows, batch_size=config().IMPORT_BATCH_ROWS,
                          progress=_progress_writer(job, progress, "check"))
    except DomainError as exc:
        job.state, job.message = JobState.UPLOADED, exc.message
        job.save(update_fields=["state", "message"])
        raise
    except Exception:
        # A job nobody can see fail would be polled for ever: record it, then re-raise.
        logger.exception("import %s: check failed", job.pk)
        job.state, job.message = JobState.FAILED, _("The check stopped on an internal error; nothing was written.")
        job.save(update_fields=["state", "message"])
        raise
    # Everything above ran outside any transaction; the result is written in one short one.
    summary = _summary(outcome, table.headers, mapping)
    job.refresh_from_db()
    _save_report(job, table.headers, outcome.rows)
    with transaction.atomic():
        job.preview = summary
        job.total_rows = len(rows)
        job.state, job.message = JobState.CHECKED, ""
        job.save(update_fields=["preview", "total_rows", "state", "message", "report"])
    return job


@transaction.atomic
def import_job_confirm(*, actor: User, job: ImportJob, mode: str, include_duplicates: bool = False) -> ImportJob:
    """The user's go-ahead after the preview. The run itself is a background task."""
    from kam.imports.tasks import run_import

    job = _job_for(actor, job.pk, lock=True)
    if job.state != JobState.CHECKED:
        raise Conflict(_("Check the file before importing it."))
    if mode not in ImportMode.values:
        raise ValidationFailed(_("Choose how to import."), errors={"mode": [_("Unknown mode.")]})
    counts = job.preview.get("counts", {})
    if mode == ImportMode.ALL_OR_NOTHING and (counts.get("invalid", 0) or counts.get("refused", 0)):
        raise ValidationFailed(
            _("%(n)d rows cannot be imported, so “all or nothing” would import nothing. Fix the file, or import the valid rows only.")
            % {"n": counts.get("invalid", 0) + counts.get("refused", 0)},
            errors={"mode": [_("The file has rows that cannot be imported.")]},
        )
    job.mode, job.include_duplicates = mode, include_duplicates
    job.state, job.progress_done = JobState.QUEUED, 0
    job.save(update_fields=["mode", "include_duplicates", "state", "progress_done"])
    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


class JobTakenOver(Exception):
    """Another run of this job took it over (it was resumed while this one was thought dead):
    this run stops without writing its batch."""


def _worker_gone(job: ImportJob) -> bool:
    """Whether the process that was running `job` has died (it cannot say so itself).

    A registered background worker is asked of the registry (kam.core.workers: stopped, or
    no beat within WORKER_STALE_SECONDS, or its pid gone on this host). A process that never
    registered — `kam import` on the command line — is checked by its pid on this host, and
    elsewhere by the job's own progress within IMPORT_STALE_SECONDS.
    """
    alive = workers.worker_alive(job.worker)
    if alive is not None:
        return not alive
    host, _sep, pid = job.worker.rpartition(":")
    if host == workers.host_name() and pid.isdigit():
        return workers.process_gone(host, int(pid))
    stale = timezone.now() - timedelta(seconds=config().IMPORT_STALE_SECONDS)
    return job.heartbeat_at is None or job.heartbeat_at < stale


INTERRUPTIBLE = (JobState.CHECKING, JobState.RUNNING)


def import_job_interrupted(job: ImportJob) -> bool:
    """A check or a run whose process died part-way: it waits for the user to resume it."""
    return job.state in INTERRUPTIBLE and bool(job.worker) and _worker_gone(job)


def import_jobs_interrupted(jobs: Iterable[ImportJob]) -> set[int]:
    """The ids of the interrupted jobs among `jobs` (a list page), with one registry query."""
    candidates = [job for job in jobs if job.state in INTERRUPTIBLE and job.worker]
    registered = workers.workers_alive_among(job.worker for job in candidates)
    return {job.pk for job in candidates
            if (not registered[job.worker] if job.worker in registered else _worker_gone(job))}


def import_job_waiting(job: ImportJob) -> bool:
    """Queued for the background worker and not yet taken up by one."""
    return job.state == JobState.QUEUED or job.state == JobState.CHECKING and not job.worker


@transaction.atomic
def import_job_check_queue(*, actor: User, job: ImportJob) -> ImportJob:
    """Hand the check to the background worker. The job shows as being checked (the page
    polls) and as waiting until a worker takes it up."""
    from kam.imports.tasks import check_import

    job = _job_for(actor, job.pk, lock=True)
    if job.state not in (JobState.UPLOADED, JobState.CHECKED):
        raise Conflict(_("This import has already started."))
    job.state, job.progress_done, job.worker, job.message = JobState.CHECKING, 0, "", ""
    job.save(update_fields=["state", "progress_done", "worker", "message"])
    transaction.on_commit(lambda: check_import.enqueue(job.pk))
    return job


@transaction.atomic
def import_job_resume(*, actor: User, job: ImportJob) -> ImportJob:
    """Start an interrupted import again: a run goes on after its last committed batch, a
    check starts over. Refused while the process running it is alive."""
    from kam.imports.tasks import check_import, run_import

    job = _job_for(actor, job.pk, lock=True)
    if job.state not in INTERRUPTIBLE or not job.worker:
        raise Conflict(_("This import is not interrupted; there is nothing to resume."))
    if not _worker_gone(job):
        raise Conflict(_("The background worker running this import is still alive; "
                         "it can be resumed only once that worker has stopped."))
    if job.state == JobState.CHECKING:
        job.progress_done = 0
        task = check_import
    else:
        job.state, job.progress_done = JobState.QUEUED, job.rows_done
        task = run_import
    job.worker, job.message = "", ""
    job.save(update_fields=["state", "progress_done", "worker", "message"])
    transaction.on_commit(lambda: task.enqueue(job.pk))
    return job


def import_job_run(*, job_id: int, progress: Progress | None = None) -> ImportJob:
    """Write the file: all at once or in batches; resumes after the last committed batch."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.state == JobState.RUNNING and not _worker_gone(job):
            raise Conflict(_("This import is running."))
        if job.state not in (JobState.QUEUED, JobState.RUNNING):
            raise Conflict(_("This import is not waiting to run."))
        me = workers.worker_id()
        job.state, job.worker, job.message = JobState.RUNNING, me, ""
        job.started_at = job.started_at or timezone.now()
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "worker", "message", "started_at", "heartbeat_at"])
    start = job.rows_done
    try:
        importer, rows, table = _recall(job)
        report = _progress_writer(job, progress, "import")

        def on_batch(done: int, counts: Counter) -> None:
            # Inside the batch's transaction: a run resumed elsewhere meanwhile owns the job,
            # and this batch is rolled back rather than written twice.
            if not ImportJob.objects.filter(pk=job.pk, worker=me).update(
                rows_done=done, progress_done=done, heartbeat_at=timezone.now(),
                **{field: F(field) + counts.get(action, 0) for action, field in COUNT_FIELDS.items()},
            ):
                raise JobTakenOver
            if progress:
                progress("import", done, len(rows))

        if start:
            report(start, len(rows))
        outcome = execute(
            importer, rows,
            all_or_nothing=job.mode == ImportMode.ALL_OR_NOTHING,
            batch_size=config().IMPORT_BATCH_ROWS,
            single_transaction_rows=config().IMPORT_SINGLE_TRANSACTION_ROWS,
            start=start,
            on_batch=on_batch,
        )
    except JobTakenOver:
        logger.warning("import %s: resumed by another run; this run (%s) stops", job.pk, me)
        job.refresh_from_db()
        return job
    except ImportRejected as exc:
        job.refresh_from_db()
        job.state, job.finished_at = JobState.REJECTED, timezone.now()
        job.message = str(exc)
        job.preview = _summary(exc.outcome, table.headers)
        _save_report(job, table.headers, exc.outcome.rows)
        job.save(update_fields=["state", "finished_at", "message", "preview", "report"])
        return job
    except DomainError as exc:
        job.refresh_from_db()
        job.state, job.message, job.finished_at = JobState.FAILED, exc.message, timezone.now()
        job.save(update_fields=["state", "message", "finished_at"])
        return job
    except Exception:
        logger.exception("import %s: run failed", job.pk)
        job.refresh_from_db()
        job.state, job.finished_at = JobState.FAILED, timezone.now()
        job.message = _("The import stopped on an internal error after %(n)d rows; those rows are written, "
                        "the rest is not.") % {"n": job.rows_done}
        job.save(update_fields=["state", "message", "finished_at"])
        raise
    job.refresh_from_db()
    job.state, job.finished_at, job.message = JobState.DONE, timezone.now(), ""
    if start == 0:
        _save_report(job, table.headers, outcome.rows)
    job.save(update_fields=["state", "finished_at", "message", "report"])
    return job


def import_job_resumable(*, actor: User, kind: str, sha256: str) -> ImportJob | None:
    """An earlier run of the same file by the same user that died part-way."""
    job = (
        ImportJob.objects.filter(user=actor, kind=kind, sha256=sha256, state=JobState.RUNNING)
        .order_by("-created_at").first()
    )
    return job if job is not None and _worker_gone(job) else None


@transaction.atomic
def import_job_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    job = _job_for(actor, job.pk, lock=True)
    if job.state not in (JobState.UPLOADED, JobState.CHECKED):
        raise Conflict(_("Only an import that has not started can be cancelled."))
    job.state = JobState.CANCELLED
    job.save(update_fields=["state"])
    return job


def mapping_template_delete(*, actor: User, template_id: int) -> None:
    deleted, _rows = MappingTemplate.objects.filter(user=actor, pk=template_id).delete()
    if not deleted:
        raise NotVisible(_("Not found."))
