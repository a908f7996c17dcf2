"""The crisis room's part of the demo organisation: the room the replayed Metro-North spike opened.

Listening's demo replays a real CrisisLex crisis on the hub's "Rail incident watch" query and its detector raises a
spike alert; here that alert opens its incident (as the live subscriber would: one incident per spike), with the
group's PR manager as its owner, a few lines in its log and a holding statement draft. The hub's generic playbook
is defined first, so the room opens with its checklist (its first step ticked off by the PR manager). Without the
datasets (no alert), a room is opened by hand on the hub. Seeding again adds nothing."""

from __future__ import annotations

from dandelion.core.actors import SYSTEM
from dandelion.core.demo import DemoContext

STATEMENT = ("We are aware of reports about a train derailment near Spuyten Duyvil. Our teams are gathering the "
             "facts and will share an update within the hour. Our thoughts are with everyone affected.")


PLAYBOOK_STEPS = [
    {"title": "Confirm the facts with operations", "owner_role": "owner", "due_minutes": 15},
    {"title": "Draft and approve the holding statement", "owner_role": "comms", "due_minutes": 30},
    {"title": "Legal review of what we say", "owner_role": "legal", "due_minutes": 60},
    {"title": "Brief the spokes' community managers", "owner_role": "spoke_lead", "due_minutes": 45},
    {"title": "Send the first stakeholder update", "owner_role": "owner", "due_minutes": 90},
]


def seed(demo: DemoContext) -> None:
    from dandelion.crisis import services
    from dandelion.crisis.models import Incident, Playbook
    from dandelion.listening.models import Alert

    hub = demo.units["group"]
    if Incident.objects.filter(unit=hub).exists():
        demo.counts["crisis incidents"] = Incident.objects.filter(unit=hub).count()
        return
    if not Playbook.objects.filter(unit=hub).exists():
        services.create_playbook(actor=demo.hub_admin, unit=hub, name="Any crisis: first hours", steps=PLAYBOOK_STEPS)
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
    first = incident.checklist.order_by("position").first()
    if first is not None:
        services.tick_item(first, actor=owner_actor)
    demo.counts["crisis incidents"] = Incident.objects.filter(unit=hub).count()
