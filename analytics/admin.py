"""The audit log for admins (read-only), and saved queries (changed through the console or
the API, which validate them)."""

from django.contrib import admin

from .models import QueryRun, SavedQuery


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QueryRun)
class QueryRunAdmin(_ReadOnly):
    list_display = ("started_at", "user", "outcome", "row_count", "duration_ms", "short_sql")
    list_filter = ("outcome",)
    search_fields = ("sql", "user__username")
    date_hierarchy = "started_at"
    list_select_related = ("user",)

    @admin.display(description="SQL")
    def short_sql(self, obj: QueryRun) -> str:
        return obj.sql[:120]


@admin.register(SavedQuery)
class SavedQueryAdmin(_ReadOnly):
    list_display = ("name", "created_by", "updated_at")
    search_fields = ("name", "description", "sql")
