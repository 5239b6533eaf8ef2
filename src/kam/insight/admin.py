from django import forms
from django.contrib import admin

from kam.core.errors import DomainError
from kam.insight.churn.services import checked_params, churn_definition_update
from kam.insight.models import (
    AccountScore,
    ChurnDefinition,
    ChurnEvent,
    ChurnReason,
    HealthScore,
    ModelFit,
    RetentionAction,
    SatisfactionSurvey,
    Warning,
    WarningRule,
)


@admin.register(ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")


class ChurnDefinitionForm(forms.ModelForm):
    class Meta:
        model = ChurnDefinition
        fields = ("name", "is_active", "params", "sort_order")

    def clean_params(self):
        try:
            return checked_params(self.instance.rule, self.cleaned_data.get("params"))
        except DomainError as exc:
            raise forms.ValidationError(["; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
                                         or exc.message]) from None


@admin.register(ChurnDefinition)
class ChurnDefinitionAdmin(admin.ModelAdmin):
    """Name, active and parameters go through the same service and checks as the app's page."""

    form = ChurnDefinitionForm
    list_display = ("code", "name", "rule", "is_active", "params", "sort_order")
    readonly_fields = ("code", "rule")

    def has_add_permission(self, request):
        return False  # the rules are code; a definition of a new kind would have nothing to check

    def has_delete_permission(self, request, obj=None):
        return False  # events keep their definition

    def save_model(self, request, obj, form, change):
        churn_definition_update(actor=request.user, definition=obj.pk, name=obj.name, is_active=obj.is_active,
                                params=obj.params)
        if "sort_order" in form.changed_data:
            ChurnDefinition.objects.filter(pk=obj.pk).update(sort_order=obj.sort_order)


@admin.register(ChurnEvent)
class ChurnEventAdmin(admin.ModelAdmin):
    list_display = ("account", "definition", "reason", "competitor", "detected_on", "amount_lost", "recovered_on")
    list_filter = ("definition", "reason", "recovered_on")
    date_hierarchy = "detected_on"
    raw_id_fields = ("account", "recorded_by")
    search_fields = ("account__name", "account__code")


@admin.register(ModelFit)
class ModelFitAdmin(admin.ModelAdmin):
    list_display = ("count_model", "period", "window_start", "calibration_end", "customers", "converged", "created_at")


@admin.register(AccountScore)
class AccountScoreAdmin(admin.ModelAdmin):
    list_display = ("account", "p_alive", "expected_purchases", "expected_value", "clv", "scored_at")
    raw_id_fields = ("account", "fit")


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(admin.ModelAdmin):
    list_display = ("account", "surveyed_on", "score")
    raw_id_fields = ("account", "recorded_by")


@admin.register(HealthScore)
class HealthScoreAdmin(admin.ModelAdmin):
    list_display = ("account", "month", "score", "computed_at")
    raw_id_fields = ("account",)


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "severity", "is_enabled", "params", "sort_order")


@admin.register(Warning)
class WarningAdmin(admin.ModelAdmin):
    list_display = ("account", "rule", "severity", "state", "opened_at", "closed_at")
    list_filter = ("state", "rule", "severity")
    raw_id_fields = ("account", "task")


@admin.register(RetentionAction)
class RetentionActionAdmin(admin.ModelAdmin):
    list_display = ("warning", "outcome", "recorded_by", "recorded_at")
    raw_id_fields = ("warning", "recorded_by")
