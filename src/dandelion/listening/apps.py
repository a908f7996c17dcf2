from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class ListeningConfig(plugins.DandelionAppConfig):
    name = "dandelion.listening"
    label = "listening"
    verbose_name = "Listening"
    nav = (plugins.NavEntry(_("Listening"), "listening:query-list", order=55),)
    role_grants = {
        "spoke_admin": ("listening.*",),
        "pr_manager": ("listening.*",),
        "community_manager": ("listening.add_listeningquery", "listening.change_listeningquery",
                              "listening.change_alert"),
    }
    api_routes = (
        plugins.ApiRoute("listening-queries", "dandelion.listening.api.views.ListeningQueryViewSet",
                         "listeningquery"),
        plugins.ApiRoute("listening-alerts", "dandelion.listening.api.views.AlertViewSet", "listeningalert"),
    )
    demo_seed = "dandelion.listening.demo.seed"
    demo_after = ("orgs", "assets")

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.listening.mail import on_events

        # a spike is e-mailed to the query's subscribers (capped, in each person's language)
        subscribe("listening.mail", on_events)
