"""Admin for SLA configuration. Every save and delete goes through sla.config_services,
which validate (the calendar builds, every target is reachable) and recompute open tickets,
exactly as the API does: the admin cannot store a setting that stops SLA processing.
Timers, escalations, notifications and recompute claims are read-only here: they are
derived by the engine and written by the sweeper, never edited by hand."""

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet

from support_desk.errors import ApplicationError

from . import config_services
from .models import (
    Calendar,
    Escalation,
    EscalationRule,
    Notification,
    RecomputeClaim,
    SlaPolicy,
    SlaTarget,
    SlaTimer,
)

TARGET_FIELDS = ("priority", "metric", "minutes", "business_hours")


def _form_error(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's error on the field it names (hours[2].start -> hours), else on top."""
    field = (error.param or "").split(".")[0].split("[")[0]
    form.add_error(field if field in form.fields else None, error.message)


class CalendarForm(forms.ModelForm):
    class Meta:
        model = Calendar
        fields = ("name", *config_services.CALENDAR_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                config_services.calendar_check(self.instance_with(cleaned))
            except ApplicationError as error:
                _form_error(self, error)
        return cleaned

    def instance_with(self, cleaned: dict) -> Calendar:
        calendar = Calendar(pk=self.instance.pk, name=cleaned.get("name", ""))
        for name in config_services.CALENDAR_FIELDS:
            setattr(calendar, name, cleaned.get(name))
        return calendar


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ("name", "timezone", "always_open", "holiday_country", "updated_at")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        config_services.calendar_save(calendar=obj)

    def delete_model(self, request, obj):
        config_services.calendar_delete(calendar=obj)

    def delete_queryset(self, request, queryset):
        for calendar in queryset:
            config_services.calendar_delete(calendar=calendar)


class TargetFormSet(BaseInlineFormSet):
    """The policy's targets, checked together against the policy's calendar."""

    def targets(self) -> list[dict]:
        return [
            {name: form.cleaned_data[name] for name in TARGET_FIELDS}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        seen = set()
        for target in self.targets():
            key = (target["priority"], target["metric"])
            if key in seen:
                raise forms.ValidationError("Only one target per priority and metric.")
            seen.add(key)
        calendar = getattr(self.instance, "calendar", None) if self.instance.calendar_id else None
        if calendar is None:
            return  # the policy form reports the missing calendar
        try:
            config_services.policy_check(calendar=calendar, targets=self.targets())
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    formset = TargetFormSet
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "calendar", "warn_at_percent", "updated_at")
    list_select_related = ("calendar",)
    inlines = [SlaTargetInline]

    def save_model(self, request, obj, form, change):
        """Saved in save_related, with its targets, in one service call."""

    def save_related(self, request, form, formsets, change):
        (targets,) = [f for f in formsets if isinstance(f, TargetFormSet)]
        config_services.policy_save(policy=form.instance, targets=targets.targets())
        form.save_m2m()
        # The service replaced the targets; the admin's history just notes the change.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        config_services.policy_delete(policy=obj)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            config_services.policy_delete(policy=policy)


class EscalationRuleForm(forms.ModelForm):
    class Meta:
        model = EscalationRule
        fields = (
            "name",
            "metric",
            "trigger",
            "after_minutes",
            "priorities",
            "action",
            "target_queue",
            "position",
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "move_to_queue" and not cleaned.get("target_queue"):
            self.add_error("target_queue", "move_to_queue needs a target queue.")
        return cleaned


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = ("name", "position", "metric", "trigger", "after_minutes", "action")
    list_filter = ("metric", "trigger", "action")

    def save_model(self, request, obj, form, change):
        config_services.rule_save(rule=obj)

    def delete_model(self, request, obj):
        try:
            config_services.rule_delete(rule=obj)
        except ApplicationError as error:
            messages.error(request, error.message)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            self.delete_model(request, rule)


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
    list_display = ("user", "text", "created_at", "emailed_at", "email_attempts", "read_at")
    raw_id_fields = ("ticket", "escalation")


class FailingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("claimed", "Claimed, not failing")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(failures__gt=0)
        if self.value() == "claimed":
            return queryset.filter(failures=0)
        return queryset


@admin.register(RecomputeClaim)
class RecomputeClaimAdmin(ReadOnlyAdmin):
    """Tickets whose SLA recompute keeps failing (also in /healthz), with the error."""

    list_display = ("ticket", "failures", "first_failed_at", "last_failed_at", "retry_at")
    list_filter = (FailingFilter,)
    ordering = ("-failures", "ticket")
    readonly_fields = ("ticket", "failures", "first_failed_at", "last_failed_at", "retry_at")
    fields = (*readonly_fields, "last_error")
