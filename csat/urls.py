"""The csat pages."""

urlpatterns: list = []
