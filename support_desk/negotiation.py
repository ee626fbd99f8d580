"""DRF content negotiation with a shortcut for the usual API client."""

from rest_framework.negotiation import DefaultContentNegotiation


class Negotiation(DefaultContentNegotiation):
    """DRF parses the Accept header against every renderer on every request. A client
    that accepts anything (no Accept header, or */*) gets the first renderer at once: the
    choice DRF itself makes then. Everything else -- application/json, a ?format=, a
    media type nothing renders (406) -- is negotiated by DRF as before."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            accept == "*/*"
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
