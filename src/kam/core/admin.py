"""Admin for the system administrator: org units, users, reference lists, tokens.

Writes that carry rules (unit paths, user roles) go through the services. A user saved here
(password, active flag, role…) gets what User.save guarantees on every path: tokens revoked and
sessions ended on a new password or a deactivation, the change audited.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kam.core.models import ApiToken, AuditEvent, Industry, OrgUnit, Region, User
from kam.core.services import api_tokens_revoke, orgunit_create


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("path",)

    def get_readonly_fields(self, request, obj=None):
        # The parent fixes the path of a whole subtree; moving units is not an admin edit.
        return ("path", "parent") if obj else ("path",)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = orgunit_create(code=obj.code, name=obj.name, kind=obj.kind, parent=obj.parent)
            obj.pk, obj.path = created.pk, created.path


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "unit", "is_active", "last_login")
    list_filter = ("role", "is_active", "unit")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Key-account role"), {"fields": ("role", "unit", "display_name", "mobile")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Key-account role"), {"fields": ("role", "unit", "display_name")}),
    )


@admin.register(Industry, Region)
class ReferenceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("code", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at",
                    "revoked_because")
    list_filter = ("revoked_because",)
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at", "expires_at",
                       "revoked_at", "revoked_because")
    search_fields = ("user__username", "prefix")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued with `kam token`, which shows the raw value once

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the row says when and why

    @admin.action(description=_("Revoke the selected tokens"), permissions=["view"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            revoked += api_tokens_revoke(user=token.user, token_id=token.pk, actor=request.user)
        self.message_user(request, ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", revoked) % {"n": revoked},
                          messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log can be read, never edited or deleted, even by administrators."""

    list_display = ("at", "kind", "username", "ip_address", "target")
    list_filter = ("kind",)
    search_fields = ("username", "target")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
