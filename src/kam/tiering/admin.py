from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kam.tiering.models import Scheme, Snapshot


@admin.register(Scheme)
class SchemeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "method", "window_months", "is_active")
    readonly_fields = ("method",)


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("scheme", "as_of", "state", "accounts", "frozen_year", "created_by", "created_at")
    list_filter = ("scheme", "state")
    readonly_fields = [f.name for f in Snapshot._meta.fields]

    def has_add_permission(self, request):
        return False
