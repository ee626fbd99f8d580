"""The analytics pages."""

urlpatterns: list = []
