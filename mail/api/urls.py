"""The mail API under /api/v1/."""

urlpatterns: list = []
