"""Requests for a spoke's hostname are its website; Dandelion answers on its own hosts (``DANDELION_APP_HOSTS``)."""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port
from django.utils import translation

WEBSITE_URLCONF = "dandelion.sites.site_urls"
# Wagtail's admin sets inline styles and runs scripts that the strict policy forbids: relaxed on its paths only.
CMS_PREFIX = "/cms/"
CMS_CSP = {"style-src": ["'unsafe-inline'"], "script-src": ["'unsafe-inline'"], "img-src": ["blob:"]}


#: How long shared caches (a CDN, a reverse proxy) keep a website's page (an anonymous GET answered 200). Browsers
#: revalidate every time (``max-age=0``): an editor who just published sees the new page, not a copy kept 5 minutes.
PAGE_MAX_AGE = 300


def _cache_headers(request, response) -> None:
    """A website's page is cacheable when it is the same for everyone: an anonymous GET answered 200 that set no
    cookie (a page with the comment form sets the CSRF cookie: private). Anything else is not stored."""
    if response.has_header("Cache-Control"):
        return
    shared = (request.method in ("GET", "HEAD") and response.status_code == 200 and not response.cookies
              and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
              and not getattr(getattr(request, "user", None), "is_authenticated", False))
    if shared:
        response["Cache-Control"] = f"public, max-age=0, s-maxage={PAGE_MAX_AGE}"
    else:
        response["Cache-Control"] = "private, no-store"


class WebsiteHostMiddleware:
    """Routes a request whose host is not one of Dandelion's to the websites' urls (Wagtail's page serving), with
    no database query; Wagtail then picks the site by hostname (an unknown one is a 404)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        domain, _port = split_domain_port(request.get_host())
        app_hosts = settings.DANDELION_APP_HOSTS
        is_website = bool(domain) and domain.lower() not in app_hosts
        if is_website:
            request.urlconf = WEBSITE_URLCONF
            # a website's language is its address's (/fr/...; the default language at /), never the browser's:
            # one address, one language (hreflang alternates, cacheable pages)
            language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if is_website:
            _cache_headers(request, response)
        if not is_website and request.path.startswith(CMS_PREFIX):
            response._csp_update = CMS_CSP
        return response
