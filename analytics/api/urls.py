"""The analytics API under /api/v1/."""

urlpatterns: list = []
