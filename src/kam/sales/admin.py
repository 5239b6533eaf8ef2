from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kam.sales.models import (
    Competitor,
    DealReview,
    Lead,
    LeadAssignmentRule,
    LeadSource,
    Opportunity,
    OutcomeReason,
    PoolEvent,
    ReviewMeeting,
)


@admin.register(LeadSource, Competitor)
class ReferenceListAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")


@admin.register(OutcomeReason)
class OutcomeReasonAdmin(ReferenceListAdmin):
    list_display = ("code", "name", "applies_to", "sort_order", "is_active")


@admin.register(LeadAssignmentRule)
class LeadAssignmentRuleAdmin(SimpleHistoryAdmin):
    list_display = ("name", "sort_order", "region", "industry", "source", "unit", "assignee", "is_active")
    list_editable = ("sort_order", "is_active")
    raw_id_fields = ("assignee",)


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    list_display = ("company", "source", "status", "unit", "assignee", "follow_up_due_at", "created_at")
    list_filter = ("status", "source")
    search_fields = ("company", "contact_name", "phone")
    raw_id_fields = ("assignee", "escalated_to", "account", "opportunity", "rule")


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    list_display = ("name", "account", "stage", "amount", "expected_close", "owner")
    list_filter = ("stage",)
    search_fields = ("name", "account__name")
    raw_id_fields = ("account", "owner", "lead")


@admin.register(PoolEvent)
class PoolEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "account", "user", "former_owner")
    list_filter = ("kind",)
    raw_id_fields = ("account", "user", "former_owner")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(admin.ModelAdmin):
    list_display = ("held_on", "title", "unit", "is_senior")


@admin.register(DealReview)
class DealReviewAdmin(SimpleHistoryAdmin):
    list_display = ("project", "amount", "status", "submitted_at", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("opportunity", "meeting", "submitted_by", "manager", "director", "decided_by")
