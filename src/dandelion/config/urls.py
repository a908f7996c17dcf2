"""URL configuration: each domain app mounts its own ``urls.py`` (UI) and ``api/urls.py`` (REST)."""

from importlib import import_module
from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from dandelion.core import views as core_views

#: Domain apps, in navigation order. An app contributes ``<app>/urls.py`` and/or ``<app>/api/urls.py``.
DOMAIN_APPS = ("orgs", "assets", "inbox", "routing", "understanding", "core")


def _has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


api_patterns = []
for _app in DOMAIN_APPS:
    if _has_module(f"dandelion.{_app}.api.urls"):
        api_patterns.append(path("", include(import_module(f"dandelion.{_app}.api.urls"))))

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("dandelion.core.urls")),
    path("api/v1/", include((api_patterns, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
for _app in DOMAIN_APPS:
    if _app != "core" and _has_module(f"dandelion.{_app}.urls"):
        urlpatterns.append(path(f"{_app}/", include(f"dandelion.{_app}.urls")))
if _has_module("dandelion.inbox.hooks"):
    urlpatterns.append(path("hooks/", include("dandelion.inbox.hooks")))

handler404 = "dandelion.api.exceptions.not_found"
