"""Admin for the system administrator: org units, users, reference lists, tokens.

Writes that carry rules (unit paths, user roles) go through the services.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from kam.core.models import ApiToken, AuditEvent, Industry, OrgUnit, Region, User
from kam.core.services import orgunit_create, user_deactivate


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

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            user_deactivate(user=obj)


@admin.register(Industry, Region)
class ReferenceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("code", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")
    search_fields = ("user__username", "prefix")

    def has_add_permission(self, request):
        return False  # tokens are issued with `kam token`, which shows the raw value once


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log can be read, never edited or deleted, even by administrators."""

    list_display = ("at", "kind", "username", "ip_address")
    list_filter = ("kind",)
    search_fields = ("username",)
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
