"""Response headers for the public pages that show a customer's own things.

- private_page: never stored by a browser's or a proxy's cache (a shared computer's back
  button after signing out, a company proxy), as Django's never_cache does.
- token_in_url: the page's own address holds a secret (a sign-in link, a survey link), so
  no Referer header carries it anywhere, not even to the desk's own access logs.
"""

from functools import wraps

from django.views.decorators.cache import never_cache

private_page = never_cache


def token_in_url(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper
