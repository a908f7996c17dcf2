from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class OrgsConfig(plugins.DandelionAppConfig):
    name = "dandelion.orgs"
    label = "orgs"
    verbose_name = "Organisation"
    nav = (
        plugins.NavEntry(_("Organisation"), "orgs:tree", order=20),
        plugins.NavEntry(_("Guidelines"), "orgs:guideline-list", order=50, team_scoped=True),
    )
    role_grants = {
        "spoke_admin": ("orgs.manage_members",),
        "helper_agent": ("orgs.view_*",),
        "external_moderator": ("orgs.view_team", "orgs.view_guideline", "orgs.acknowledge_guideline"),
    }
    api_routes = (
        plugins.ApiRoute("org-units", "dandelion.orgs.api.views.OrgUnitViewSet", "orgunit"),
        plugins.ApiRoute("teams", "dandelion.orgs.api.views.TeamViewSet", "team"),
        plugins.ApiRoute("memberships", "dandelion.orgs.api.views.MembershipViewSet", "membership"),
        plugins.ApiRoute("guidelines", "dandelion.orgs.api.views.GuidelineViewSet", "guideline"),
    )
    # invitations and password reset, beside the login page
    extra_urls = (("accounts/", "dandelion.orgs.auth_urls"),)
    demo_seed = "dandelion.orgs.demo.seed"
    org_tree = "dandelion.orgs.provider"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from dandelion.core.memo import watch_config

        # routing's default route, SLA calendars and assignment read these (kept across a worker's batches)
        watch_config(self.get_model("OrgUnit"), self.get_model("Team"), self.get_model("Membership"))
        watch_config(get_user_model(), ignore_fields=("last_login",))  # an inactive user is not assignable
