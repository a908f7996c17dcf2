from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class RoutingConfig(plugins.DandelionAppConfig):
    name = "dandelion.routing"
    label = "routing"
    verbose_name = "Routing"
    nav = (plugins.NavEntry(_("Routing"), "routing:rule-list", order=40),)
    role_grants = {
        "spoke_admin": ("routing.*",),
        "community_manager": ("routing.view_*",),
        "helper_agent": ("routing.view_*",),
    }
    api_routes = (
        plugins.ApiRoute("routing-rules", "dandelion.routing.api.views.RoutingRuleViewSet", "routingrule"),
        plugins.ApiRoute("sla-policies", "dandelion.routing.api.views.SlaPolicyViewSet", "slapolicy"),
    )
    demo_seed = "dandelion.routing.demo.seed"
    demo_after = ("orgs",)

    def ready(self) -> None:
        from dandelion.core.memo import watch_config

        # the inbound pipeline keeps what it reads of these across batches (core.memo.config_memoized)
        watch_config(*(self.get_model(name) for name in ("RoutingRule", "SlaPolicy", "BusinessCalendar", "Holiday")))
