"""URL configuration: each installed Dandelion app's HTML urls and API routes, found through its ``AppConfig``
(``dandelion.core.plugins``); nothing here names a domain app."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from dandelion.core import views as core_views
from dandelion.core.plugins import api_router, ui_url_mounts

# The API browsers' scripts are served from this site (the "split" Swagger view: no inline script); their widgets set
# inline styles and Redoc runs a blob: worker, which only these two pages allow. Redoc's sidebar always shows
# Redocly's logo from their CDN (no setting removes it): that one image is allowed there (the Referrer-Policy sends
# them no address of ours).
API_DOCS_CSP = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"], "worker-src": ["blob:"]})
REDOC_CSP = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:", "https://cdn.redoc.ly"],
                        "worker-src": ["blob:"]})


def build_urlpatterns() -> list:
    """The site's url patterns for the apps installed now (tests that install an app build them again)."""
    patterns = [
        path("", core_views.home, name="home"),
        path("healthz", core_views.healthz, name="healthz"),
        path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
        path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
        path("admin/", admin.site.urls),
        path("api/v1/", include((api_router().urls, "api"), namespace="api")),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", API_DOCS_CSP(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
        path("api/redoc/", REDOC_CSP(SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html")),
             name="api-redoc"),
    ]
    patterns += [path(prefix, include(module)) for prefix, module in ui_url_mounts()]
    return patterns


urlpatterns = build_urlpatterns()

handler404 = "dandelion.api.exceptions.not_found"
