from django.contrib import admin
from django.urls import include, path

from .health import healthz
from .security import DocsView, SchemaView

api_v1 = [
    path("", include("tickets.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("sla.api.escalation_urls")),
    path("", include("dashboard.api_urls")),
    path("", include("mail.api.urls")),
    path("", include("phone.api.urls")),
    path("", include("helpcenter.api.urls")),
    path("", include("csat.api.urls")),
    path("", include("analytics.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("", include("accounts.urls")),
    path("", include("tickets.urls")),
    path("", include("workspace.urls")),
    path("", include("dashboard.urls")),
    path("", include("mail.urls")),
    path("", include("phone.urls")),
    path("", include("helpcenter.urls")),
    path("", include("csat.urls")),
    path("", include("analytics.urls")),
]

# Django's own 400s under /api/ (e.g. a body over the limit outside DRF) are JSON too.
handler400 = "support_desk.api_errors.handler400"
handler404 = "support_desk.api_errors.handler404"
handler500 = "support_desk.api_errors.handler500"
