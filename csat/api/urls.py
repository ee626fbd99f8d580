"""The csat API under /api/v1/."""

urlpatterns: list = []
