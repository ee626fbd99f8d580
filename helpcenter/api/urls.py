"""The helpcenter API under /api/v1/."""

urlpatterns: list = []
