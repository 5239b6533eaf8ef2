"""Read-only admin views of activities and tasks: they are written in the application."""

from django.contrib import admin

from kam.accounts.admin import ReadOnlyAdmin
from kam.activities.models import Activity, Task


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "kind", "account", "decision_maker_met", "created_by")
    list_filter = ("kind", "decision_maker_met")
    list_select_related = ("account", "created_by")
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "owner", "account", "due_on", "status", "source_kind")
    list_filter = ("status", "source_kind")
    list_select_related = ("owner", "account")
    raw_id_fields = ("account",)
    show_full_result_count = False
