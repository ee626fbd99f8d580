from django.contrib import admin

from .models import Message, Organization, Queue, Requester, Ticket, TicketEvent


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "tier")
    list_filter = ("tier",)
    search_fields = ("name", "external_id")


@admin.register(Requester)
class RequesterAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "organization")
    search_fields = ("email", "name")
    list_select_related = ("organization",)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "is_default")
    prepopulated_fields = {"slug": ("name",)}


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    readonly_fields = ("author_type", "author", "public", "body", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    readonly_fields = ("type", "at", "actor", "data", "recorded_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the agent workspace and API so history is kept."""

    list_display = ("id", "subject", "status", "priority", "queue", "assignee", "created_at")
    list_filter = ("status", "priority", "queue", "channel")
    search_fields = ("subject", "requester__email", "external_id")
    list_select_related = ("queue", "assignee")
    readonly_fields = [f.name for f in Ticket._meta.fields]
    inlines = [MessageInline, EventInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "type", "at", "actor")
    list_filter = ("type",)
    readonly_fields = ("ticket", "type", "at", "actor", "data", "recorded_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # append-only history
