"""The helpcenter pages."""

urlpatterns: list = []
