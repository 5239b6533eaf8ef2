"""Lead pages: the list with its SLA clock and export, a new lead, the lead page (follow-ups,
assignment, qualification, disqualification) and the assignment rules with their editing.
Thin views: they parse, call a service from kam.sales.leads or kam.sales.leads.rules and
render; the forms only parse."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import colleagues
from kam.accounts.services import SimilarAccounts
from kam.activities.models import Task, TaskSource
from kam.core.conf import kam_setting
from kam.core.errors import DomainError, NotVisible, PermissionDenied
from kam.core.exports import list_export
from kam.core.models import Industry, OrgUnit, Region
from kam.core.validators import validate_name
from kam.core.web import (
    AutocompleteWidget,
    IdChoiceField,
    attach_domain_error,
    bind_autocomplete,
    is_htmx,
    paginate,
)
from kam.sales.leads import rules, selectors, services
from kam.sales.leads.exports import lead_columns
from kam.sales.models import LeadAssignmentRule, LeadSource, LeadStatus

MONEY_LIMITS = {"max_digits": 16, "decimal_places": 2, "min_value": 0}
NEW_ACCOUNT = "new"


def _style(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        if isinstance(widget, forms.HiddenInput | AutocompleteWidget | forms.RadioSelect | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
        widget.attrs.setdefault("data-field", name)


def _active(model):
    return model.objects.filter(is_active=True).order_by("sort_order", "code")


# --- forms ---------------------------------------------------------------------------------


class LeadFilterForm(forms.Form):
    q = forms.CharField(required=False, label=gettext_lazy("Search"), max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Company, contact or phone"),
                                                      "autocomplete": "off"}))
    status = forms.ChoiceField(label=gettext_lazy("status"), choices=[("", "—"), *LeadStatus.choices], required=False)
    source = IdChoiceField(queryset=LeadSource.objects.none(), required=False, label=gettext_lazy("source"))
    assignee = IdChoiceField(queryset=None, required=False, label=gettext_lazy("assignee"),
                             widget=AutocompleteWidget(url=reverse_lazy("users_autocomplete")))
    unassigned = forms.BooleanField(required=False, label=gettext_lazy("unassigned only"))
    overdue = forms.BooleanField(required=False, label=gettext_lazy("follow-up overdue"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = LeadSource.objects.order_by("sort_order", "code")
        bind_autocomplete(self, "assignee", colleagues(user=user))
        _style(self)

    def filters(self) -> selectors.LeadFilters:
        if not self.is_bound:
            return selectors.LeadFilters()
        self.is_valid()  # an invalid field is left out; the valid ones still filter
        cleaned = self.cleaned_data
        assignee = selectors.UNASSIGNED if cleaned.get("unassigned") else getattr(cleaned.get("assignee"), "pk", None)
        return selectors.LeadFilters(
            status=cleaned.get("status") or "", source=getattr(cleaned.get("source"), "pk", None),
            assignee=assignee, overdue=bool(cleaned.get("overdue")), q=cleaned.get("q") or "",
        )


class LeadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=LeadSource.objects.none(), label=gettext_lazy("source"))
    company = forms.CharField(label=gettext_lazy("company"), max_length=200, validators=[validate_name])
    uscc = forms.CharField(label=gettext_lazy("unified social credit code"), max_length=30, required=False)
    contact_name = forms.CharField(label=gettext_lazy("contact"), max_length=50, required=False,
                                   validators=[validate_name])
    contact_title = forms.CharField(label=gettext_lazy("contact's title"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=30, required=False)
    email = forms.EmailField(label=gettext_lazy("email"), required=False)
    need = forms.CharField(label=gettext_lazy("need"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    estimated_amount = forms.DecimalField(label=gettext_lazy("estimated amount (yuan)"), required=False,
                                          **MONEY_LIMITS)
    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=gettext_lazy("region"), required=False)
    industry = forms.ModelChoiceField(queryset=Industry.objects.none(), label=gettext_lazy("industry"), required=False)
    assignee = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("assign to"),
        help_text=gettext_lazy("Leave empty to let the assignment rules decide."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = _active(LeadSource)
        self.fields["region"].queryset = _active(Region)
        self.fields["industry"].queryset = _active(Industry)
        if user.is_specialist:
            del self.fields["assignee"]
        else:
            self.fields["assignee"].queryset = selectors.lead_assignees(user=user)
        _style(self)

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "assignee"}


class FollowUpForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("what was done"), widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(label=gettext_lazy("follow-up plan"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, label=gettext_lazy("assign to"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.lead_assignees(user=user)
        _style(self)


class DisqualifyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("reason"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class QualifyForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("the lead becomes"), widget=forms.RadioSelect, initial="opportunity",
        choices=[("opportunity", gettext_lazy("an opportunity, to sales")),
                 ("nurture", gettext_lazy("a prospect to nurture, to marketing"))],
    )
    account = forms.ChoiceField(label=gettext_lazy("account"), widget=forms.RadioSelect, required=False)
    other_account = IdChoiceField(queryset=None, required=False, label=gettext_lazy("or another account"),
                                  widget=AutocompleteWidget(url=reverse_lazy("accounts:autocomplete")))
    confirm_new = forms.BooleanField(
        required=False, label=gettext_lazy("None of these: create a new account anyway"))
    opportunity_name = forms.CharField(label=gettext_lazy("project"), max_length=200, required=False,
                                       validators=[validate_name])
    amount = forms.DecimalField(label=gettext_lazy("intended amount (yuan)"), required=False, **MONEY_LIMITS)
    expected_close = forms.DateField(label=gettext_lazy("expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("note"), max_length=500, required=False)

    def __init__(self, *args, user, candidates: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.fields["account"].choices = [
            *((str(a.pk), f"{a.name} ({a.code}) · {a.owner or _('public pool')} · {a.unit}") for a in candidates),
            (NEW_ACCOUNT, _("a new account from the lead")),
        ]
        self.fields["account"].initial = str(candidates[0].pk) if candidates else NEW_ACCOUNT
        bind_autocomplete(self, "other_account", Account.objects.visible_to(user))
        _style(self)

    def service_args(self) -> dict:
        data = self.cleaned_data
        chosen = data.get("other_account") or (data.get("account") if data.get("account") not in ("", NEW_ACCOUNT)
                                               else None)
        return {
            "outcome": data["outcome"], "account": chosen, "confirm_new_account": bool(data.get("confirm_new")),
            "opportunity_name": data.get("opportunity_name") or "", "amount": data.get("amount"),
            "expected_close": data.get("expected_close"), "note": data.get("note") or "",
        }


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by their depth in the tree, so a branch's offices sit under it."""

    indent = "\u3000"  # an ideographic space: one Chinese character wide

    def label_from_instance(self, obj):
        return self.indent * max(obj.depth, 0) + obj.name


class LeadRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100, validators=[validate_name])
    region = forms.ModelChoiceField(queryset=Region.objects.none(), required=False, label=gettext_lazy("region"),
                                    empty_label=gettext_lazy("any region"),
                                    help_text=gettext_lazy("A province also catches its cities."))
    industry = forms.ModelChoiceField(queryset=Industry.objects.none(), required=False,
                                      label=gettext_lazy("industry"), empty_label=gettext_lazy("any industry"))
    source = forms.ModelChoiceField(queryset=LeadSource.objects.none(), required=False,
                                    label=gettext_lazy("source"), empty_label=gettext_lazy("any source"))
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("assign to unit"))
    assignee = IdChoiceField(
        queryset=None, required=False, label=gettext_lazy("assign to person"),
        widget=AutocompleteWidget(url=reverse_lazy("users_autocomplete")),
        help_text=gettext_lazy("Someone in the unit or below it. Leave empty to deal the leads in turn "
                               "to the unit's active specialists (round robin)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = _active(Region)
        self.fields["industry"].queryset = _active(Industry)
        self.fields["source"].queryset = _active(LeadSource)
        units = OrgUnit.objects.filter(is_active=True).order_by("path")
        if not (user.is_superuser or user.sees_everything):
            units = units.filter(pk__in=user.visible_unit_ids)
        self.fields["unit"].queryset = units
        bind_autocomplete(self, "assignee", selectors.lead_assignees(user=user))
        _style(self)

    @staticmethod
    def initial_for(rule: LeadAssignmentRule) -> dict:
        return {"name": rule.name, "region": rule.region_id, "industry": rule.industry_id,
                "source": rule.source_id, "unit": rule.unit_id, "assignee": rule.assignee_id}


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
    form = LeadFilterForm(request.GET or None, user=request.user)
    now = timezone.now()
    leads = selectors.lead_list(user=request.user, filters=form.filters(), now=now)
    page = paginate(request, leads, kam_setting("PAGE_SIZE"))
    context = {"form": form, "page": page, "now": now, "query": _query(request),
               "export_query": _query(request, "format")}
    template = "sales/leads/leads.html#results" if is_htmx(request) else "sales/leads/leads.html"
    return render(request, template, context)


@login_required
def lead_export(request):
    filters = LeadFilterForm(request.GET or None, user=request.user).filters()
    return list_export(request, what="leads", queryset=selectors.lead_list(user=request.user, filters=filters),
                       columns=lead_columns(), filename=_("leads"))


@login_required
def lead_new(request):
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                lead = services.lead_create(actor=request.user, data=form.service_data(),
                                            assignee=form.cleaned_data.get("assignee"))
            except DomainError as exc:
                attach_domain_error(form, exc)
            else:
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
    may_work = lead.assignee_id == user.pk or user.is_superuser or user.role in services.ASSIGNING_ROLES
    return {
        "lead": lead, "now": timezone.now(), "follow_ups": selectors.lead_follow_ups(lead=lead),
        "may_work": may_work and lead.is_open,
        "may_assign": lead.is_open and (user.is_superuser or user.role in services.ASSIGNING_ROLES),
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
        try:
            call(lead, form.cleaned_data)
        except NotVisible:
            raise Http404 from None
        except PermissionDenied as exc:
            return HttpResponseForbidden(exc.message)
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
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
            try:
                services.lead_qualify(actor=request.user, lead=lead, **form.service_args())
            except NotVisible:
                raise Http404 from None
            except PermissionDenied as exc:
                return HttpResponseForbidden(exc.message)
            except SimilarAccounts as exc:
                similar = exc.extra.get("similar") or []
                attach_domain_error(form, exc)
            except DomainError as exc:
                attach_domain_error(form, exc)
            else:
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
        "may_create": rules.may_manage_rule(request.user),
        "follow_up_hours": kam_setting("LEAD_FOLLOW_UP_HOURS"),
        "reassign_hours": kam_setting("LEAD_REASSIGN_HOURS"),
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
    if not rules.may_manage_rule(request.user, rule):
        return HttpResponseForbidden(_("Only headquarters or the unit's managers may change this rule."))
    initial = LeadRuleForm.initial_for(rule) if rule is not None else None
    form = LeadRuleForm(request.POST or None, user=request.user, initial=initial)
    if request.method != "POST":
        return _rule_form_page(request, form, rule)
    if form.is_valid():
        try:
            saved = rules.lead_rule_save(actor=request.user, rule=rule, data=form.cleaned_data)
        except NotVisible:
            raise Http404 from None
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
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
    try:
        call(rule)
    except NotVisible:
        raise Http404 from None
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        url = back or reverse("sales:lead_rules")
    else:
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


urlpatterns = [
    path("leads/", lead_list, name="leads"),
    path("leads/export/", lead_export, name="leads_export"),
    path("leads/new/", lead_new, name="lead_new"),
    path("leads/rules/", lead_rules, name="lead_rules"),
    path("leads/rules/new/", lead_rule_new, name="lead_rule_new"),
    path("leads/rules/<id:pk>/", lead_rule_edit, name="lead_rule_edit"),
    path("leads/rules/<id:pk>/move/", lead_rule_move, name="lead_rule_move"),
    path("leads/rules/<id:pk>/active/", lead_rule_toggle, name="lead_rule_toggle"),
    path("leads/rules/<id:pk>/delete/", lead_rule_delete, name="lead_rule_delete"),
    path("leads/<id:pk>/", lead_detail, name="lead"),
    path("leads/<id:pk>/follow-up/", lead_follow_up, name="lead_follow_up"),
    path("leads/<id:pk>/assign/", lead_assign, name="lead_assign"),
    path("leads/<id:pk>/qualify/", lead_qualify, name="lead_qualify"),
    path("leads/<id:pk>/disqualify/", lead_disqualify, name="lead_disqualify"),
]
