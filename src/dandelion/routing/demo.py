"""The routing part of the demo: hub rules every spoke inherits, SLA policies for every answering team."""

from __future__ import annotations

from dandelion.core.demo import DemoContext


def seed(demo: DemoContext) -> None:
    """Hub rules every spoke inherits, and SLA policies for every answering team (through the routing services)."""
    from dandelion.routing import services as routing
    from dandelion.routing.models import RoutingRule, SlaPolicy

    hub = demo.units["group"]
    hub_admin = demo.hub_admin
    rules = [
        ("Hide spam", {"all": [{"field": "spam", "op": "gte", "value": 0.8}]},
         {"hide": True, "add_tags": ["spam"], "set_priority": "low"}, True),
        ("Hide abuse", {"all": [{"field": "abuse", "op": "gte", "value": 0.85}]},
         {"hide": True, "add_tags": ["abuse"]}, False),
        ("Legal or press threat → PR", {"all": [{"field": "keywords", "op": "any", "value": [
            "lawyer", "avocat", "abogado", "prawnik", "avocat", "journalist", "journaliste", "periodista", "press",
            "presse", "boycott", "sue", "procès"]}]},
         {"escalate_to_pr": True, "set_priority": "urgent", "add_tags": ["escalated"]}, False),
        ("Influencers first", {"any": [{"field": "author_followers", "op": "gte", "value": 50000},
                                       {"field": "vip", "op": "is", "value": True}]},
         {"set_priority": "high", "add_tags": ["vip"]}, False),
        ("Complaints", {"all": [{"field": "intent", "op": "in", "value": ["complaint"]},
                                {"field": "sentiment", "op": "in", "value": ["negative"]}]},
         {"set_priority": "high", "add_tags": ["complaint"]}, False),
    ]
    for name, conditions, actions, stop in rules:
        if not RoutingRule.objects.filter(unit=hub, name=name).exists():
            routing.create_routing_rule(actor=hub_admin, unit=hub, name=name, conditions=conditions,
                                        actions=actions, stop_processing=stop)
    hour = 3600
    for team in demo.teams.values():
        if team.kind not in ("helpers", "moderation", "community", "pr"):
            continue
        for priority, first, nxt, resolution in (("", 2 * hour, 4 * hour, 48 * hour),
                                                  ("urgent", 15 * 60, hour, 8 * hour),
                                                  ("high", hour, 2 * hour, 24 * hour)):
            if SlaPolicy.objects.filter(team=team, priority=priority).exists():
                continue
            routing.create_sla_policy(
                actor=hub_admin, team=team, priority=priority, first_response_seconds=first,
                next_response_seconds=nxt, resolution_seconds=resolution,
                business_hours=team.kind != "moderation",  # the vendor works 24/7
                escalation={"set_priority": "urgent"} if priority != "urgent" else {},
            )
