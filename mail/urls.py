"""The mail pages."""

urlpatterns: list = []
