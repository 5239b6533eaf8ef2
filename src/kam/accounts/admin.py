"""Read-only admin views of accounts and contacts, with their field history.

Accounts and contacts are edited in the application, where the visibility and
duplicate rules apply; the admin is for inspection.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kam.accounts.models import Account, AccountTeamMember, Contact


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "uscc", "owner", "unit", "channel", "lifecycle_status", "deleted_at")
    list_filter = ("channel", "lifecycle_status", "industry")
    search_fields = ("code", "name", "uscc")
    list_select_related = ("owner", "unit")
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("name", "account", "decision_role", "attitude", "status")
    search_fields = ("name", "mobile")
    list_select_related = ("account",)
    raw_id_fields = ("account", "successor", "relationship_owner")


@admin.register(AccountTeamMember)
class AccountTeamMemberAdmin(ReadOnlyAdmin):
    list_display = ("account", "user", "team_role")
    list_select_related = ("account", "user")
