from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class AssetsConfig(plugins.DandelionAppConfig):
    name = "dandelion.assets"
    label = "assets"
    verbose_name = "Social accounts"
    nav = (plugins.NavEntry(_("Accounts"), "assets:account-list", order=30),)
    role_grants = {
        "spoke_admin": ("assets.*",),
        "community_manager": ("assets.add_socialaccount", "assets.change_socialaccount"),
        "helper_agent": ("assets.view_socialaccount",),
    }
    api_routes = (plugins.ApiRoute("accounts", "dandelion.assets.api.views.SocialAccountViewSet", "socialaccount"),)
    unit_figures = "dandelion.assets.reports.unit_figures"
    unit_page = "dandelion.assets.reports.unit_page"
    demo_seed = "dandelion.assets.demo.seed"
    demo_after = ("orgs",)
