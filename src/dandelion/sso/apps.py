
from dandelion.core import plugins


class SsoConfig(plugins.DandelionAppConfig):
    name = "dandelion.sso"
    label = "sso"
    verbose_name = "Single sign-on"
    # providers and rules are the hub's: "sso.manage_identityprovider" matches only the hub admin's "*"
    role_grants = {}
    url_prefix = "sso/"
    extra_urls = (("scim/v2/", "dandelion.sso.scim_urls"),)
    demo_seed = "dandelion.sso.demo.seed"
    demo_after = ("orgs", "assets")
