from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class CrisisConfig(plugins.DandelionAppConfig):
    name = "dandelion.crisis"
    label = "crisis"
    verbose_name = "Crisis room"
    nav = (plugins.NavEntry(_("Crisis"), "crisis:incident-list", order=56),)
    role_grants = {
        # spoke admins act on the incidents of their subtree through the base grants (add/change/view)
        # a PR manager runs the room, and pausing (and resuming) the subtree's publishing from it is part of the job
        "pr_manager": ("crisis.*", "publishing.add_crisispause", "publishing.change_crisispause"),
        # the spokes' community managers tick off the playbook steps their role owns (nothing else of the room)
        "community_manager": ("crisis.change_checklistitem",),
    }
    api_routes = (plugins.ApiRoute("crisis-incidents", "dandelion.crisis.api.views.IncidentViewSet", "incident"),
                  plugins.ApiRoute("crisis-playbooks", "dandelion.crisis.api.views.PlaybookViewSet", "playbook"))
    demo_seed = "dandelion.crisis.demo.seed"
    demo_after = ("orgs", "listening")

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.crisis.services import on_events

        # a listening spike opens its room; the room's openings and escalations are e-mailed
        subscribe("crisis", on_events)
