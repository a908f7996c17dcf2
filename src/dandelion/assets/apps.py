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

    def ready(self) -> None:
        from dandelion.assets.services import _on_person_deactivated
        from dandelion.orgs.signals import person_deactivated

        # a leaver's accounts are flagged in the deactivation's own transaction (any source: by hand, SCIM, IdP)
        person_deactivated.connect(_on_person_deactivated, dispatch_uid="assets.owner_left")
