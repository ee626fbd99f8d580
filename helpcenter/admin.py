"""Categories are plain configuration, managed here. Articles are written in the workspace
(/knowledge-base/) or the API, through helpcenter.services, so they are not editable here."""

from django.contrib import admin

from .models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("position", "name")
