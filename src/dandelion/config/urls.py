"""URL configuration: each installed Dandelion app's HTML urls and API routes, found through its ``AppConfig``
(``dandelion.core.plugins``); nothing here names a domain app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from dandelion.core import views as core_views
from dandelion.core.plugins import api_router, ui_url_mounts


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
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
        path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    ]
    patterns += [path(prefix, include(module)) for prefix, module in ui_url_mounts()]
    return patterns


urlpatterns = build_urlpatterns()
