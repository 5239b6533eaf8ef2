"""Import pages: upload → columns → check (preview) → confirm → progress → result. Thin views."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.errors import DomainError
from kam.core.exports import write_xlsx
from kam.core.models import AuditEvent
from kam.core.web import form_errors, is_htmx, message_errors, paginate
from kam.imports import policies, selectors, services
from kam.imports.engine import ACTION_LABELS, Action
from kam.imports.forms import ConfirmForm, MappingForm, UploadForm
from kam.imports.models import ImportKind, ImportMode, JobState
from kam.imports.uploads import refused_message


def _job_or_404(request, pk: int):
    job = selectors.import_job_get(user=request.user, pk=pk)
    if job is None:
        raise Http404
    return job


def _start_check(job) -> None:
    services.import_job_check_queue(actor=job.user, job=job)


@login_required
def import_list(request):
    """The upload. No transaction is open while the file is read (the guard and the reader run
    in import_job_create, which stores the job in a short one of its own); the check is queued
    for the background worker, which reads the file again, also outside any transaction."""
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST" and (refused := refused_message(request)):
        form.is_valid()
        form.errors["file"] = form.error_class([refused])
        status = 413
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with form_errors(form):
            job = services.import_job_create(
                actor=request.user, kind=form.cleaned_data["kind"], filename=upload.name,
                data=upload.read(), template=form.cleaned_data["template"],
                options={"create_accounts": True}
                if form.cleaned_data["kind"] == ImportKind.REVENUE and form.cleaned_data["create_accounts"] else {},
                keep_table=True,
            )
            mapping = services.job_mapping(job)
            if mapping.unknown or services.mapping_problems(job, mapping):
                return redirect("imports:columns", job.pk)
            _start_check(job)
            return redirect("imports:detail", job.pk)
    page = paginate(request, selectors.import_jobs(user=request.user), config().PAGE_SIZE)
    return render(request, "imports/list.html", {
        "form": form, "page": page, "kinds": ImportKind.choices,
        "interrupted": services.import_jobs_interrupted(page),
        "templates": selectors.mapping_templates(user=request.user),
    }, status=status)


@login_required
def import_columns(request, pk: int):
    job = _job_or_404(request, pk)
    if not policies.may_run_job(request.user, job):
        raise Http404
    try:
        table = services.job_table(job)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("imports:list")
    columns = services.importer_class(job.kind).columns
    current = services.job_mapping(job, table)
    form = MappingForm(request.POST or None, headers=table.headers, columns=columns, current=current.columns,
                       samples=[cells for _n, cells in table.rows[:3]])
    if request.method == "POST" and form.is_valid():
        with form_errors(form), transaction.atomic():
            job = services.import_job_map(actor=request.user, job=job, mapping=form.mapping(),
                                          template_name=form.cleaned_data["template_name"])
            if problems := services.mapping_problems(job, services.job_mapping(job, table)):
                raise DomainError(" ".join(problems))
            _start_check(job)
            return redirect("imports:detail", job.pk)
    problems = services.mapping_problems(job, current)
    return render(request, "imports/columns.html", {"job": job, "form": form, "problems": problems,
                                                    "unknown": current.unknown})


@login_required
def import_detail(request, pk: int):
    job = _job_or_404(request, pk)
    counts = job.preview.get("counts", {})
    interrupted = services.import_job_interrupted(job)
    context = {
        "job": job,
        "counts": [(a, ACTION_LABELS[a], counts.get(str(a), 0)) for a in Action],
        "issues": job.preview.get("issues", []),
        # The page polls while the job moves (or waits for a worker), not once it was interrupted.
        "active": job.is_active and not interrupted,
        "interrupted": interrupted,
        "may_resume": interrupted and policies.may_run_job(request.user, job),
        "waiting": services.import_job_waiting(job),
        "blocking": counts.get("invalid", 0) + counts.get("refused", 0),
        "confirm": ConfirmForm(initial={
            "mode": ImportMode.VALID_ONLY if counts.get("invalid", 0) + counts.get("refused", 0) else ImportMode.ALL_OR_NOTHING,
        }),
        "result": [
            (ACTION_LABELS[Action.CREATE], job.created), (ACTION_LABELS[Action.UPDATE], job.updated),
            (ACTION_LABELS[Action.UNCHANGED], job.unchanged), (ACTION_LABELS[Action.DUPLICATE], job.duplicates),
            (ACTION_LABELS[Action.REFUSED], job.refused), (ACTION_LABELS[Action.INVALID], job.invalid),
        ],
    }
    if is_htmx(request):
        return render(request, "imports/detail.html#status", context)
    return render(request, "imports/detail.html", context)


@login_required
@require_POST
def import_confirm(request, pk: int):
    job = _job_or_404(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to import."))
        return redirect("imports:detail", job.pk)
    with message_errors(request):
        services.import_job_confirm(actor=request.user, job=job, mode=form.cleaned_data["mode"],
                                    include_duplicates=form.cleaned_data["include_duplicates"])
    return redirect("imports:detail", job.pk)


@login_required
@require_POST
def import_resume(request, pk: int):
    """Resume an import whose worker died: the owner's only, everyone else gets a 404 (the
    service finds no job of theirs)."""
    job = _job_or_404(request, pk)
    with message_errors(request):
        job = services.import_job_resume(actor=request.user, job=job)
        messages.success(request, _("Checking the file again.") if job.state == JobState.CHECKING
                         else _("The import goes on after row %(n)d.") % {"n": job.rows_done})
    return redirect("imports:detail", job.pk)


@login_required
@require_POST
def import_cancel(request, pk: int):
    job = _job_or_404(request, pk)
    with message_errors(request):
        services.import_job_cancel(actor=request.user, job=job)
        messages.success(request, _("Import cancelled; nothing was written."))
        return redirect("imports:list")
    return redirect("imports:detail", job.pk)


@login_required
def import_report(request, pk: int):
    job = _job_or_404(request, pk)
    if not job.report:
        raise Http404
    audit_record(kind=AuditEvent.Kind.DOWNLOAD, user=request.user, request=request,
                 target=f"{job.filename} ({job.user.get_username()})", file="import error report", job=job.pk,
                 owner=job.user.get_username(), own=job.user_id == request.user.pk)
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=job.report.name.rsplit("/", 1)[-1],
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def blank_template(request, kind: str):
    """An empty workbook with the recognised headers, required ones marked with *."""
    if kind not in ImportKind.values:
        raise Http404
    columns = services.importer_class(kind).columns
    buffer = io.BytesIO()
    write_xlsx([f"{c.label}{'*' if c.required else ''}" for c in columns], [], buffer, title=str(ImportKind(kind).label))
    buffer.seek(0)
    title = _("template")
    return FileResponse(buffer, as_attachment=True, filename=f"{ImportKind(kind).label}-{title}.xlsx")


@login_required
@require_POST
def template_delete(request, pk: int):
    services.mapping_template_delete(actor=request.user, template_id=pk)
    return redirect("imports:list")

