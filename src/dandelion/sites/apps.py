from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class SitesConfig(plugins.DandelionAppConfig):
    name = "dandelion.sites"
    label = "sites"
    verbose_name = "Websites"
    nav = (plugins.NavEntry(_("Websites"), "sites:site-list", order=60),)
    # Who edits and publishes a unit's website (Wagtail page permissions, kept in sync by
    # services.sync_site_permissions): the hub admins (``*``), and the spoke's admins and community managers.
    # A spoke's admins give an agency one section of their sites (services.grant_section).
    # Creating a site is the hub's (a grant on the root: services.create_site).
    role_grants = {
        "spoke_admin": ("sites.edit_site_pages", "sites.grant_site_section"),
        "community_manager": ("sites.edit_site_pages",),
    }
    api_routes = (plugins.ApiRoute("sites", "dandelion.sites.api.views.UnitSiteViewSet", "unitsite"),)
    extra_urls = (("cms/", "wagtail.admin.urls"),)  # Wagtail's admin: where the websites' pages are edited
    demo_seed = "dandelion.sites.demo.seed"
    incident_page = "dandelion.sites.views.incident_panel"  # the crisis room's "banner on our websites" panel
    demo_after = ("orgs", "assets")

    def ready(self) -> None:
        from dandelion.connectors.website.connector import set_blog_api
        from dandelion.sites import blog, signals  # noqa: F401  (memberships changing re-sync the editors)

        set_blog_api(blog)  # the website connector reaches the blogs' comments through this API only
