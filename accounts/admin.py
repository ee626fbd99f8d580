from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .forms import AdminLoginForm
from .models import ApiToken, User


@admin.register(User)
class DeskUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Desk", {"fields": ("role",)}))
    list_display = ("username", "email", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "key_prefix",
        "user",
        "name",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("key_prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False  # raw tokens are shown once: create them with `manage.py create_api_token`


# The admin's sign-in goes through the same lock-out as /login/.
admin.site.login_form = AdminLoginForm
