"""A tiny app installed only by tests/core/test_plugins.py: it plugs itself in like any domain app."""

from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class PluginAppConfig(plugins.DandelionAppConfig):
    name = "tests.plugin_app"
    label = "plugin_app"
    verbose_name = "Plugin test app"
    nav = (plugins.NavEntry(_("Plugged"), "plugin_app:index", order=15, team_scoped=True),)
    role_grants = {"analyst": ("plugin_app.launch_rocket",), "hub_admin": ("*",)}
    api_routes = (plugins.ApiRoute("plugged", "tests.plugin_app.views.PluggedViewSet", "plugged"),)
    audit_filter = False
    demo_seed = "tests.plugin_app.views.seed"
    demo_after = ("orgs",)
