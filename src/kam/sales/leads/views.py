"""Lead pages: the list with its SLA clock and export, a new lead, the lead page (follow-ups,
assignment, qualification, disqualification) and the assignment rules with their editing.
Thin views: they parse, call a service from kam.sales.leads or kam.sales.leads.rules and
render; the forms only parse."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.selectors import colleagues
from kam.accounts.services import SimilarAccounts
from kam.activities.models import Task, TaskSource
from kam.core.conf import config
from kam.core.exports import list_export
from kam.core.policies import require
from kam.core.web import (
    form_errors,
    is_htmx,
    message_errors,
    paginate,
)
from kam.sales.leads import policies, rules, selectors, services
from kam.sales.leads.exports import lead_columns
from kam.sales.leads.filters import LeadFilter
from kam.sales.leads.forms import (
    AssignForm,
    DisqualifyForm,
    FollowUpForm,
    LeadForm,
    LeadRuleForm,
    QualifyForm,
)
from kam.sales.models import LeadAssignmentRule

# --- pages ---------------------------------------------------------------------------------


def _lead_or_404(request, pk: int):
    lead = selectors.lead_get(user=request.user, pk=pk)
    if lead is None:
        raise Http404
    return lead


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


@login_required
def lead_list(request):
    filters = LeadFilter.from_request(request)
    form = filters.form(choices={"source": selectors.lead_sources(),
                                 "assignee": colleagues(user=request.user)})
    now = timezone.now()
    leads = selectors.lead_list(user=request.user, filters=filters, now=now)
    page = paginate(request, leads)
    context = {"form": form, "page": page, "now": now, "query": _query(request),
               "export_query": _query(request, "format")}
    template = "sales/leads/leads.html#results" if is_htmx(request) else "sales/leads/leads.html"
    return render(request, template, context)


@login_required
def lead_export(request):
    filters = LeadFilter.from_request(request)
    return list_export(request, what="leads", queryset=selectors.lead_list(user=request.user, filters=filters),
                       columns=lead_columns(), filename=_("leads"))


@login_required
def lead_new(request):
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            with form_errors(form):
                lead = services.lead_create(actor=request.user, data=form.service_data(),
                                            assignee=form.cleaned_data.get("assignee"))
                if selectors.lead_get(user=request.user, pk=lead.pk) is not None:
                    return redirect("sales:lead", lead.pk)
                # The rules gave it to someone outside what the author sees.
                messages.success(request, _("Lead %(company)s was created and assigned to %(person)s.")
                                 % {"company": lead.company, "person": lead.assignee or lead.unit})
                return redirect("sales:leads")
        return render(request, "sales/leads/lead_form.html", {"form": form}, status=422)
    return render(request, "sales/leads/lead_form.html", {"form": form})


def _detail_context(request, lead, **forms_) -> dict:
    user = request.user
    may_work = policies.may_work(user, lead)
    return {
        "lead": lead, "now": timezone.now(), "follow_ups": selectors.lead_follow_ups(lead=lead),
        "may_work": may_work and lead.is_open,
        "may_assign": lead.is_open and policies.may_assign(user, lead),
        "follow_up_form": forms_.get("follow_up_form") or FollowUpForm(),
        "assign_form": forms_.get("assign_form") or AssignForm(user=user, initial={"assignee": lead.assignee_id}),
        "disqualify_form": forms_.get("disqualify_form") or DisqualifyForm(),
        "tasks": _lead_tasks(lead, user),
    }


def _lead_tasks(lead, user):
    return (Task.objects.visible_to(user).filter(source_kind=TaskSource.LEAD, source_id=lead.pk)
            .select_related("owner").order_by("-created_at", "-id"))


@login_required
def lead_detail(request, pk: int):
    lead = _lead_or_404(request, pk)
    return render(request, "sales/leads/lead_detail.html", _detail_context(request, lead))


def _act(request, pk: int, form, call, form_name: str):
    """Run a service for the lead page's forms; errors come back on the page with the form."""
    lead = _lead_or_404(request, pk)
    if form.is_valid():
        with form_errors(form):
            call(lead, form.cleaned_data)
            return redirect("sales:lead", lead.pk) if selectors.lead_get(user=request.user, pk=lead.pk) \
                else redirect("sales:leads")
    return render(request, "sales/leads/lead_detail.html", _detail_context(request, lead, **{form_name: form}), status=422)


@login_required
@require_POST
def lead_follow_up(request, pk: int):
    return _act(request, pk, FollowUpForm(request.POST),
                lambda lead, data: services.lead_follow_up(actor=request.user, lead=lead, **data), "follow_up_form")


@login_required
@require_POST
def lead_assign(request, pk: int):
    return _act(request, pk, AssignForm(request.POST, user=request.user),
                lambda lead, data: services.lead_assign(actor=request.user, lead=lead, assignee=data["assignee"]),
                "assign_form")


@login_required
@require_POST
def lead_disqualify(request, pk: int):
    return _act(request, pk, DisqualifyForm(request.POST),
                lambda lead, data: services.lead_disqualify(actor=request.user, lead=lead, note=data["note"]),
                "disqualify_form")


@login_required
def lead_qualify(request, pk: int):
    """Judge the lead: an opportunity or a nurtured prospect, on an account found by 查重
    (the same USCC, the same or a very similar name) or a new one."""
    lead = _lead_or_404(request, pk)
    if not lead.is_open:
        return redirect("sales:lead", lead.pk)
    candidates = selectors.lead_account_candidates(user=request.user, lead=lead)
    initial = {"opportunity_name": lead.company, "amount": lead.estimated_amount}
    form = QualifyForm(request.POST or None, user=request.user, candidates=candidates, initial=initial)
    similar: list[dict] = []
    if request.method == "POST":
        if form.is_valid():
            with form_errors(form):
                try:
                    services.lead_qualify(actor=request.user, lead=lead, **form.service_args())
                except SimilarAccounts as exc:
                    similar = exc.extra.get("similar") or []
                    raise
                lead.refresh_from_db()
                if lead.opportunity_id:
                    return redirect("sales:opportunity", lead.opportunity_id)
                return redirect(lead.account.get_absolute_url())
        return render(request, "sales/leads/lead_qualify.html", {"lead": lead, "form": form, "similar": similar},
                      status=422)
    return render(request, "sales/leads/lead_qualify.html", {"lead": lead, "form": form, "similar": similar})


@login_required
def lead_rules(request):
    """The assignment rules in the order they are tried; who may, edits them here."""
    return render(request, "sales/leads/lead_rules.html", {
        "rows": rules.lead_rule_rows(user=request.user),
        "may_create": policies.may_manage_rule(request.user),
        "follow_up_hours": config().LEAD_FOLLOW_UP_HOURS,
        "reassign_hours": config().LEAD_REASSIGN_HOURS,
    })


def _rule_or_404(pk: int) -> LeadAssignmentRule:
    rule = selectors.lead_rules().filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def _rule_form_page(request, form, rule=None, status=200):
    context = {"form": form, "rule": rule,
               "may_delete": rule is not None and not rules.lead_rule_in_use(rule)}
    return render(request, "sales/leads/lead_rule_form.html", context, status=status)


def _rule_form(request, rule: LeadAssignmentRule | None):
    require(policies.may_manage_rule(request.user, rule),
            _("Only headquarters or the unit's managers may change this rule."))
    initial = LeadRuleForm.initial_for(rule) if rule is not None else None
    form = LeadRuleForm(request.POST or None, user=request.user, initial=initial)
    if request.method != "POST":
        return _rule_form_page(request, form, rule)
    if form.is_valid():
        with form_errors(form):
            saved = rules.lead_rule_save(actor=request.user, rule=rule, data=form.cleaned_data)
            messages.success(request, _("The rule “%(name)s” was saved.") % {"name": saved})
            return redirect("sales:lead_rules")
    return _rule_form_page(request, form, rule, status=422)


@login_required
def lead_rule_new(request):
    return _rule_form(request, None)


@login_required
def lead_rule_edit(request, pk: int):
    return _rule_form(request, _rule_or_404(pk))


def _rule_action(request, pk: int, call, done: str, *, back: str | None = None):
    """Run one rule service for a button; refusals come back as a message on the page."""
    rule = _rule_or_404(pk)
    url = back or reverse("sales:lead_rules")
    with message_errors(request):
        call(rule)
        messages.success(request, done % {"name": rule})
        url = reverse("sales:lead_rules")
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def lead_rule_move(request, pk: int):
    direction = request.POST.get("direction")
    if direction not in rules.DIRECTIONS:
        return HttpResponseBadRequest(_("Move a rule up or down."))
    return _rule_action(
        request, pk, lambda rule: rules.lead_rule_move(actor=request.user, rule=rule, direction=direction),
        _("The rule “%(name)s” moved up.") if direction == "up" else _("The rule “%(name)s” moved down."),
    )


@login_required
@require_POST
def lead_rule_toggle(request, pk: int):
    active = request.POST.get("active")
    if active not in ("0", "1"):
        return HttpResponseBadRequest(_("Say whether the rule is to be active."))
    return _rule_action(
        request, pk, lambda rule: rules.lead_rule_set_active(actor=request.user, rule=rule, active=active == "1"),
        _("The rule “%(name)s” is active.") if active == "1" else _("The rule “%(name)s” is inactive."),
    )


@login_required
@require_POST
def lead_rule_delete(request, pk: int):
    return _rule_action(
        request, pk, lambda rule: rules.lead_rule_delete(actor=request.user, rule=rule),
        _("The rule “%(name)s” was deleted."), back=reverse("sales:lead_rule_edit", args=[pk]),
    )
