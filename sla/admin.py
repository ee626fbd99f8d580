"""Admin for SLA configuration. Timers and escalations are read-only here: they are derived
by the engine and written by the sweeper, never edited by hand."""

from django.contrib import admin

from .models import (
    Calendar,
    Escalation,
    EscalationRule,
    Notification,
    SlaPolicy,
    SlaTarget,
    SlaTimer,
)


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "always_open", "holiday_country", "updated_at")
    search_fields = ("name",)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "calendar", "warn_at_percent", "updated_at")
    list_select_related = ("calendar",)
    inlines = [SlaTargetInline]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "metric", "trigger", "after_minutes", "action")
    list_filter = ("metric", "trigger", "action")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SlaTimer)
class SlaTimerAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "metric", "cycle", "status", "due_at", "breached_at")
    list_filter = ("metric", "status")
    raw_id_fields = ("ticket",)


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "rule", "metric", "to_queue", "fire_at", "acknowledged_at")
    list_filter = ("metric", "late")
    raw_id_fields = ("ticket",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "text", "created_at", "emailed_at", "read_at")
    raw_id_fields = ("ticket", "escalation")
