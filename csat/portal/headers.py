"""Response headers for the public pages that show a customer's own things.

- private_page: never stored by a browser's or a proxy's cache (a shared computer's back
  button after signing out, a company proxy), as Django's never_cache does.
- token_in_url: the page's own address holds a secret (a sign-in link, a survey link), so
  a Referer header names only the desk's origin, never that address, not even to the
  desk's own access logs. ("no-referrer" would be stricter but makes browsers send
  `Origin: null` with the page's own form, which CSRF protection then refuses.)
"""

from functools import wraps

from django.views.decorators.cache import never_cache

private_page = never_cache


def token_in_url(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "strict-origin"
        return response

    return wrapper
