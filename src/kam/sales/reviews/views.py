"""Deal-review pages (大客户开发研讨会): the list and its export, submitting an opportunity with
its tracking sheet, the review page with the opinions in order, the sheet as Excel, and the
meetings that collect the items. Thin views over kam.sales.reviews."""

from __future__ import annotations

from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.errors import Conflict, ValidationFailed
from kam.core.exports import ExportColumn, list_export
from kam.core.models import AuditEvent
from kam.core.web import attach_domain_error, is_htmx, paginate
from kam.sales.models import Opportunity, ReviewStatus
from kam.sales.reviews import policies as review_policies
from kam.sales.reviews import selectors, services
from kam.sales.reviews.filters import ReviewFilter
from kam.sales.reviews.forms import (
    DecideForm,
    MeetingForm,
    MeetingItemForm,
    MinutesForm,
    RecommendForm,
    ReviewSubmitForm,
    ScheduleForm,
    SeniorForm,
)
from kam.sales.reviews.sheet import meeting_workbook, review_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(request, workbook, filename: str, what: str) -> HttpResponse:
    buffer = BytesIO()
    workbook.save(buffer)
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what=what, format="xlsx")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.xlsx")
    return response


def _review_or_404(request, pk: int):
    review = selectors.review_get(user=request.user, pk=pk)
    if review is None:
        raise Http404
    return review


def _meeting_or_404(request, pk: int):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    if meeting is None:
        raise Http404
    return meeting


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- the list ----------------------------------------------------------------------------------


@login_required
def review_list(request):
    filters = ReviewFilter.from_request(request)
    form = filters.bar(meetings=selectors.meeting_list(user=request.user))
    qs = selectors.review_list(user=request.user, filters=filters)
    page = paginate(request, qs)
    query = request.GET.copy()
    query.pop("page", None)
    export_query = query.copy()
    export_query.pop("format", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "export_query": export_query.urlencode(),
               "today": timezone.localdate(), "holds_meetings": review_policies.may_hold_meetings(request.user)}
    template = "sales/reviews/review_list.html#results" if is_htmx(request) else "sales/reviews/review_list.html"
    return render(request, template, context)


def _export_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_("submitted at"), lambda r: r.submitted_at),
        ExportColumn(_("account"), lambda r: r.opportunity.account.name),
        ExportColumn(_("project"), lambda r: r.project),
        ExportColumn(_("amount (yuan)"), lambda r: r.amount),
        ExportColumn(_("owner"), lambda r: str(r.opportunity.owner)),
        ExportColumn(_("status"), lambda r: r.get_status_display()),
        ExportColumn(_("meeting"), lambda r: str(r.meeting) if r.meeting_id else ""),
        ExportColumn(_("escalated to senior review"), lambda r: r.escalated_at),
        ExportColumn(_("manager's recommendation"), lambda r: r.manager_recommendation),
        ExportColumn(_("director's recommendation"), lambda r: r.director_recommendation),
        ExportColumn(_("decision"), lambda r: r.decision),
        ExportColumn(_("decided at"), lambda r: r.decided_at),
        ExportColumn(_("open follow-ups"), lambda r: r.follow_ups_open),
        ExportColumn(_("overdue follow-ups"), lambda r: r.follow_ups_overdue),
    ]


@login_required
def review_export(request):
    queryset = selectors.review_list(user=request.user, filters=ReviewFilter.from_request(request))
    return list_export(request, what="deal reviews", queryset=queryset,
                       columns=_export_columns(), filename=_("deal reviews"))


# --- submitting --------------------------------------------------------------------------------


@login_required
def review_new(request, opportunity_pk: int):
    opportunity = (Opportunity.objects.visible_to(request.user).select_related("account", "owner__unit")
                   .filter(pk=opportunity_pk).first())
    if opportunity is None:
        raise Http404
    existing = selectors.open_review_of(user=request.user, opportunity=opportunity)
    status = 200
    if request.method == "POST":
        form = ReviewSubmitForm(request.POST)
        if form.is_valid():
            try:
                review = services.review_submit(actor=request.user, opportunity=opportunity, **form.cleaned_data)
            except (Conflict, ValidationFailed) as exc:
                attach_domain_error(form, exc)
                status = exc.status
            else:
                return redirect("sales:review", pk=review.pk)
        else:
            status = 422
    else:
        form = ReviewSubmitForm(initial={"project": opportunity.name, "amount": opportunity.amount,
                                         "core_needs": opportunity.description})
    context = {"opportunity": opportunity, "form": form, "existing": existing,
               "may_submit": review_policies.may_submit(request.user, opportunity),
               "minimum": f"{config().REVIEW_MIN_AMOUNT:,.0f}"}
    return render(request, "sales/reviews/review_form.html", context, status=status)


# --- one review --------------------------------------------------------------------------------


def _detail(request, review, *, recommend_form=None, decide_form=None, schedule_form=None, senior_form=None,
            error: str = "", status: int = 200):
    user = request.user
    may_send_to_senior = review_policies.may_send_to_senior(user, review)
    may_recommend = review_policies.may_recommend(user, review)
    may_decide = review_policies.may_decide(user, review)
    may_schedule = review_policies.may_schedule(user, review)
    meetings = None
    if may_schedule:
        # Meetings still to come, and the one the item is on.
        meetings = selectors.meeting_list(user=user).filter(Q(held_on__gte=timezone.localdate())
                                                          | Q(pk=review.meeting_id))
        if review.escalated_at is None:
            meetings = meetings.filter(is_senior=False)
    follow_ups = selectors.review_follow_ups(review)
    today = timezone.localdate()
    for task in follow_ups:
        task.overdue = task.is_open and task.due_on < today
    opinions = [
        {"key": "manager", "label": _("Manager's recommendation"), "text": review.manager_recommendation,
         "who": review.manager, "at": review.manager_at},
        {"key": "director", "label": _("Director's recommendation"), "text": review.director_recommendation,
         "who": review.director, "at": review.director_at},
        {"key": "decision", "label": _("Decision of the general manager"), "text": review.decision,
         "who": review.decided_by, "at": review.decided_at},
    ]
    context = {
        "review": review, "opportunity": review.opportunity, "account": review.opportunity.account,
        "opinions": opinions, "follow_ups": follow_ups, "error": error,
        "may_recommend": may_recommend, "may_decide": may_decide, "may_schedule": may_schedule,
        "may_withdraw": review_policies.may_withdraw(user, review),
        "recommend_form": recommend_form or (RecommendForm() if may_recommend else None),
        "decide_form": decide_form or (DecideForm() if may_decide else None),
        "senior_form": senior_form or (SeniorForm() if may_send_to_senior else None),
        "schedule_form": schedule_form or (ScheduleForm(meetings=meetings, initial={"meeting": review.meeting_id})
                                           if may_schedule else None),
        "recommending_as": _("director") if request.user.role == "director" else _("manager"),
        "statuses": ReviewStatus,
    }
    return render(request, "sales/reviews/review_detail.html", context, status=status)


@login_required
def review_detail(request, pk: int):
    return _detail(request, _review_or_404(request, pk))


def _act(request, pk: int, form, action, form_key: str):
    review = _review_or_404(request, pk)
    if not form.is_valid():
        return _detail(request, review, status=422, **{form_key: form})
    try:
        action(review)
    except (Conflict, ValidationFailed) as exc:
        attach_domain_error(form, exc)
        return _detail(request, review, status=exc.status, error=exc.message, **{form_key: form})
    return redirect("sales:review", pk=review.pk)


@login_required
@require_POST
def review_recommend(request, pk: int):
    form = RecommendForm(request.POST)
    return _act(request, pk, form, lambda review: services.review_recommend(
        actor=request.user, review=review, recommendation=form.cleaned_data["recommendation"]), "recommend_form")


@login_required
@require_POST
def review_decide(request, pk: int):
    form = DecideForm(request.POST)
    return _act(request, pk, form, lambda review: services.review_decide(
        actor=request.user, review=review, decision=form.cleaned_data["decision"],
        follow_ups=form.follow_up_lines()), "decide_form")


@login_required
@require_POST
def review_send_to_senior(request, pk: int):
    form = SeniorForm(request.POST)
    return _act(request, pk, form, lambda review: services.review_send_to_senior(
        actor=request.user, review=review, reason=form.cleaned_data["reason"]), "senior_form")


@login_required
@require_POST
def review_withdraw(request, pk: int):
    review = _review_or_404(request, pk)
    try:
        services.review_withdraw(actor=request.user, review=review)
    except (Conflict, ValidationFailed) as exc:
        return _detail(request, review, status=exc.status, error=exc.message)
    return redirect("sales:review", pk=review.pk)


@login_required
@require_POST
def review_schedule(request, pk: int):
    review = _review_or_404(request, pk)
    form = ScheduleForm(request.POST, meetings=selectors.meeting_list(user=request.user))
    if not form.is_valid():
        return _detail(request, review, status=422, schedule_form=form)
    try:
        services.review_schedule(actor=request.user, review=review, meeting=form.cleaned_data["meeting"])
    except (Conflict, ValidationFailed) as exc:
        attach_domain_error(form, exc)
        return _detail(request, review, status=exc.status, error=exc.message, schedule_form=form)
    return redirect(_next_or(request, reverse("sales:review", args=[review.pk])))


@login_required
def review_sheet(request, pk: int):
    review = _review_or_404(request, pk)
    workbook = review_workbook(review, selectors.review_follow_ups(review))
    title = _("tracking sheet")
    return _xlsx(request, workbook, f"{title}-{review.pk}", "deal review sheet")


# --- meetings ----------------------------------------------------------------------------------


@login_required
def meeting_list(request):
    holds = review_policies.may_hold_meetings(request.user)
    form = MeetingForm(request.POST or None, user=request.user) if holds else None
    status = 200
    if request.method == "POST":
        if form is None:
            return _meetings(request, None, status=403, error=_("Only managers, directors and the general manager "
                                                                "hold review meetings."))
        if form.is_valid():
            try:
                meeting = services.meeting_create(actor=request.user, **form.cleaned_data)
            except (Conflict, ValidationFailed) as exc:
                attach_domain_error(form, exc)
                status = exc.status
            else:
                return redirect("sales:meeting", pk=meeting.pk)
        else:
            status = 422
    return _meetings(request, form, status=status)


def _meetings(request, form, *, status: int = 200, error: str = ""):
    page = paginate(request, selectors.meeting_list(user=request.user))
    return render(request, "sales/reviews/meeting_list.html", {"page": page, "form": form, "error": error}, status=status)


def _meeting_page(request, meeting, *, item_form=None, minutes_form=None, error: str = "", status: int = 200):
    holds = review_policies.may_hold_meetings(request.user)
    candidates = selectors.schedulable_reviews(user=request.user, meeting=meeting) if holds else None
    context = {
        "meeting": meeting, "items": list(selectors.meeting_items(user=request.user, meeting=meeting)),
        "item_form": item_form or (MeetingItemForm(reviews=candidates) if holds else None),
        "minutes_form": minutes_form or (MinutesForm(initial={"notes": meeting.notes}) if holds else None),
        "error": error,
    }
    return render(request, "sales/reviews/meeting_detail.html", context, status=status)


@login_required
def meeting_detail(request, pk: int):
    return _meeting_page(request, _meeting_or_404(request, pk))


@login_required
@require_POST
def meeting_add(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    form = MeetingItemForm(request.POST, reviews=selectors.schedulable_reviews(user=request.user, meeting=meeting))
    if not form.is_valid():
        return _meeting_page(request, meeting, item_form=form, status=422)
    try:
        services.review_schedule(actor=request.user, review=form.cleaned_data["review"], meeting=meeting)
    except (Conflict, ValidationFailed) as exc:
        attach_domain_error(form, exc)
        return _meeting_page(request, meeting, item_form=form, error=exc.message, status=exc.status)
    return redirect("sales:meeting", pk=meeting.pk)


@login_required
@require_POST
def meeting_minutes(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        return _meeting_page(request, meeting, minutes_form=form, status=422)
    try:
        services.meeting_update_notes(actor=request.user, meeting=meeting, notes=form.cleaned_data["notes"])
    except (Conflict, ValidationFailed) as exc:
        return _meeting_page(request, meeting, minutes_form=form, error=exc.message, status=exc.status)
    return redirect("sales:meeting", pk=meeting.pk)


@login_required
def meeting_export(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    items = list(selectors.meeting_items(user=request.user, meeting=meeting))
    follow_ups = {review.pk: selectors.review_follow_ups(review) for review in items}
    workbook = meeting_workbook(meeting, items, follow_ups)
    title = _("tracking sheets")
    return _xlsx(request, workbook, f"{title}-{meeting.held_on:%Y%m%d}", "review meeting sheets")
