"""Middleware only HTML pages use, skipped for the API.

Flash messages, the viewer's time zone and htmx's request details mean nothing to a JSON
client, yet as ordinary middleware they run for every API call: building the message
storage alone costs more than a tenth of what all the middleware of an API creation does.
`PageMiddleware` (in MIDDLEWARE) runs the chain named by settings.PAGE_MIDDLEWARE around
the view for every path except the API's, where it calls the view directly.

Only middleware that works in `__call__`, `process_request` and `process_response` may be
listed: Django collects the `process_view`, `process_exception` and
`process_template_response` hooks of MIDDLEWARE's entries, not of what one of them wraps,
so a middleware with such a hook is refused at start-up rather than silently not run.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .api_errors import is_api

_HOOKS = ("process_view", "process_exception", "process_template_response")


class PageMiddleware:
    def __init__(self, get_response):
        self.view = get_response
        handler = get_response
        for path in reversed(settings.PAGE_MIDDLEWARE):
            middleware = import_string(path)(handler)
            hooks = [hook for hook in _HOOKS if hasattr(middleware, hook)]
            if hooks:
                raise ImproperlyConfigured(
                    f"{path} has {', '.join(hooks)}: list it in MIDDLEWARE, not PAGE_MIDDLEWARE."
                )
            handler = middleware
        self.pages = handler

    def __call__(self, request):
        if is_api(request):
            return self.view(request)
        return self.pages(request)
