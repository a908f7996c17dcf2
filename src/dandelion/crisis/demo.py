"""The crisis room's part of the demo organisation: the room the replayed Metro-North spike opened.

Listening's demo replays a real CrisisLex crisis on the hub's "Rail incident watch" query and its detector raises a
spike alert; here that alert opens its incident (as the live subscriber would: one incident per spike), with the
group's PR manager as its owner, a few lines in its log and a holding statement draft. Without the datasets (no
alert), a room is opened by hand on the hub. Seeding again adds nothing."""

from __future__ import annotations

from dandelion.core.actors import SYSTEM
from dandelion.core.demo import DemoContext

STATEMENT = ("We are aware of reports about a train derailment near Spuyten Duyvil. Our teams are gathering the "
             "facts and will share an update within the hour. Our thoughts are with everyone affected.")


def seed(demo: DemoContext) -> None:
    from dandelion.crisis import services
    from dandelion.crisis.models import Incident
    from dandelion.listening.models import Alert

    hub = demo.units["group"]
    if Incident.objects.filter(unit=hub).exists():
        demo.counts["crisis incidents"] = Incident.objects.filter(unit=hub).count()
        return
    alert = (Alert.objects.filter(query__unit=hub, query__is_competitor=False).select_related("query__unit")
             .order_by("-severity", "started_at").first())
    if alert is not None:
        incident, _created = services.open_incident_for_alert(alert, actor=SYSTEM)
    else:
        incident = services.open_incident(actor=demo.hub_admin, unit=hub, title="Rail incident: rising mentions",
                                          severity=6, summary="Opened by hand (no replayed spike in this demo).")
    pr = demo.users.get("paula.pr")
    owner_actor = pr or demo.hub_admin
    if pr is not None:
        services.assign_owner(incident, actor=demo.hub_admin, owner=pr)
    services.add_log_entry(incident, actor=owner_actor, kind="decision",
                           text="Hold all scheduled promotional posts until the facts are confirmed.")
    services.save_holding_statement(incident, actor=owner_actor, text=STATEMENT)
    demo.counts["crisis incidents"] = Incident.objects.filter(unit=hub).count()
