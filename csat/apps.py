from django.apps import AppConfig


class CsatConfig(AppConfig):
    name = "csat"
    default_auto_field = "django.db.models.BigAutoField"
