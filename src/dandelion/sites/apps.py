from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class SitesConfig(plugins.DandelionAppConfig):
    name = "dandelion.sites"
    label = "sites"
    verbose_name = "Websites"
    nav = (plugins.NavEntry(_("Websites"), "sites:site-list", order=60),)
    # Who edits and publishes a unit's website (Wagtail page permissions, kept in sync by
    # services.sync_site_permissions): the hub admins (``*``), and the spoke's admins and community managers.
    # Creating a site is the hub's (a grant on the root: services.create_site).
    role_grants = {
        "spoke_admin": ("sites.edit_site_pages",),
        "community_manager": ("sites.edit_site_pages",),
    }
    extra_urls = (("cms/", "wagtail.admin.urls"),)  # Wagtail's admin: where the websites' pages are edited
    demo_seed = "dandelion.sites.demo.seed"
    demo_after = ("orgs", "assets")

    def ready(self) -> None:
        from dandelion.sites import signals  # noqa: F401  (memberships changing re-sync the editors)

        _wagtail_api_reentrant()


def _wagtail_api_reentrant() -> None:
    """Wagtail 8.0's images, documents, snippets and locales mount their django-ninja router in ``ready()``, and a
    router cannot be mounted twice: populating the apps again (a test overriding ``INSTALLED_APPS``) would fail with
    "Router is already mounted". Mounting a router already there is made a no-op (this app's ready runs first)."""
    from wagtail.api.v3.api import api

    if getattr(api, "_dandelion_reentrant", False):
        return
    original = api.add_router

    def add_router(prefix, router, *args, **kwargs):
        if any(registration[1] is router for registration in api._router_registrations):
            return None
        return original(prefix, router, *args, **kwargs)

    api.add_router = add_router
    api._dandelion_reentrant = True
