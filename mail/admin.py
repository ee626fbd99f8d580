"""Admins see inbound mail that failed (kept as it arrived) and can process it again,
follow outbound delivery, and clear suppressed addresses."""

from django.contrib import admin, messages
from django.utils.html import format_html

from . import suppression
from .inbound import inbound_reprocess
from .models import EmailMessage, InboundEmail, InboundStatus, Suppression


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "door", "status", "rfc_message_id", "size", "ticket")
    list_filter = ("status", "door")
    search_fields = ("rfc_message_id", "envelope_from")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    exclude = ("raw",)
    readonly_fields = [
        f.name for f in InboundEmail._meta.get_fields() if f.concrete and f.name != "raw"
    ] + ["raw_text"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Raw message")
    def raw_text(self, obj: InboundEmail):
        text = bytes(obj.raw)[:200_000].decode("utf-8", "replace")
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text)

    @admin.action(description="Process the selected failed messages again")
    def reprocess(self, request, queryset):
        done = sum(
            inbound_reprocess(inbound_id=pk)
            for pk in queryset.filter(status=InboundStatus.FAILED).values_list("pk", flat=True)
        )
        self.message_user(request, f"{done} message(s) queued for processing.", messages.SUCCESS)


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id", "created_at", "direction", "kind", "delivery_status", "ticket", "attempts",
    )  # fmt: skip
    list_filter = ("direction", "kind", "delivery_status")
    search_fields = ("rfc_message_id", "from_address")
    readonly_fields = [f.name for f in EmailMessage._meta.get_fields() if f.concrete]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("address", "created_at", "cleared_at", "cleared_by", "reason")
    list_filter = (("cleared_at", admin.EmptyFieldListFilter),)
    search_fields = ("address",)
    actions = ["clear"]
    readonly_fields = ("address", "reason", "created_at", "cleared_at", "cleared_by")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Allow mail to the selected addresses again")
    def clear(self, request, queryset):
        done = sum(
            suppression.clear(address, request.user)
            for address in queryset.values_list("address", flat=True)
        )
        self.message_user(request, f"{done} address(es) cleared.", messages.SUCCESS)
