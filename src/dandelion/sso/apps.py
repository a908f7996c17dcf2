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
    demo_seed = "dandelion.sso.demo.seed"
    demo_after = ("orgs", "assets")
