"""URL configuration: each domain app mounts its own ``urls.py`` (UI) and ``api/urls.py`` (REST)."""

from importlib import import_module
from importlib.util import find_spec

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from dandelion.core import views as core_views

#: Domain apps, in navigation order. An app contributes ``<app>/urls.py`` and/or ``<app>/api/urls.py``.
DOMAIN_APPS = ("orgs", "assets", "inbox", "routing", "understanding", "notifications", "webhooks", "core")


def _has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


API_DOCS_CSP = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"], "worker-src": ["blob:"]})
REDOC_CSP = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:", "https://cdn.redoc.ly"],
                        "worker-src": ["blob:"]})

api_patterns = []
for _app in DOMAIN_APPS:
    if _has_module(f"dandelion.{_app}.api.urls"):
        api_patterns.append(path("", include(import_module(f"dandelion.{_app}.api.urls"))))

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("dandelion.orgs.auth_urls")),
    path("admin/", admin.site.urls),
    path("", include("dandelion.core.urls")),
    path("api/v1/", include((api_patterns, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The API browsers' scripts are served from this site (the "split" Swagger view: no inline script); their
    # widgets set inline styles and Redoc runs a blob: worker, which only these two pages allow.
    path("api/docs/", API_DOCS_CSP(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    # Redoc's sidebar always shows Redocly's logo from their CDN (no setting removes it): that one image is allowed
    # there (the Referrer-Policy sends them no address of ours).
    path("api/redoc/", REDOC_CSP(SpectacularRedocView.as_view(url_name="schema",
                                                                  template_name="core/redoc.html")),
         name="api-redoc"),
]
for _app in DOMAIN_APPS:
    if _app != "core" and _has_module(f"dandelion.{_app}.urls"):
        urlpatterns.append(path(f"{_app}/", include(f"dandelion.{_app}.urls")))
if _has_module("dandelion.inbox.hooks"):
    urlpatterns.append(path("hooks/", include("dandelion.inbox.hooks")))

handler404 = "dandelion.api.exceptions.not_found"
