from django.contrib import admin

from .macros import PLACEHOLDERS
from .models import Macro


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "body")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["body"].help_text = "Placeholders: " + ", ".join(
            "{{ " + name + " }}" for name in PLACEHOLDERS
        )
        return form
