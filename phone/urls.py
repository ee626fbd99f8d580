"""The phone pages."""

urlpatterns: list = []
