from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class SsoConfig(plugins.DandelionAppConfig):
    name = "dandelion.sso"
    label = "sso"
    verbose_name = "Single sign-on"
    # providers and rules are the hub's: "sso.manage_identityprovider" matches only the hub admin's "*"
    role_grants = {}
    nav = (plugins.NavEntry(_("Sign-in"), "sso:provider-list", order=95, perm="sso.manage_identityprovider"),)
    url_prefix = "sso/"
    extra_urls = (("scim/v2/", "dandelion.sso.scim_urls"),)
    api_routes = (
        plugins.ApiRoute("sso-providers", "dandelion.sso.api.views.IdentityProviderViewSet", "identityprovider"),
        plugins.ApiRoute("sso-rules", "dandelion.sso.api.views.ClaimRuleViewSet", "claimrule"),
        plugins.ApiRoute("sso-local-passwords", "dandelion.sso.api.views.LocalPasswordPolicyViewSet",
                         "localpasswordpolicy"),
    )
    unit_page = "dandelion.sso.views.unit_page"
    demo_seed = "dandelion.sso.demo.seed"
    demo_after = ("orgs", "assets")
