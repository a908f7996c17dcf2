"""Installing apps for the length of a test: Django populates its app registry again, running every
``AppConfig.ready()``."""

from __future__ import annotations

from contextlib import contextmanager

from django.test import override_settings


@contextmanager
def installed_apps(installed: list[str], **other_settings):
    """``INSTALLED_APPS = installed`` (and ``other_settings``) inside the block.

    Wagtail's images, documents and snippets apps mount their django-ninja routers on Wagtail's module-level API in
    ``ready()``, and a router mounts on an API once: populating the apps again would fail with "Router is already
    mounted". Inside the block, ``ready()`` mounts them on a spare API, dropped afterwards; the API that serves
    requests keeps the routers it mounted at start-up. Production code runs ``ready()`` once and needs none of this.
    """
    from ninja import NinjaAPI
    from wagtail.api.v3 import api as wagtail_api

    serving = wagtail_api.api
    wagtail_api.api = NinjaAPI(title="spare (tests.app_registry)", urls_namespace="spare_wagtailapi_v3")
    try:
        with override_settings(INSTALLED_APPS=installed, **other_settings):
            yield
    finally:
        wagtail_api.api = serving
