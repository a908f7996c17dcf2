"""Pure routing evaluation: given a message's context, which team, priority, tags and moderation it gets, and why.

No writes happen here. The inbox builds a :class:`RoutingContext` (see :func:`context_for_message`), calls
:func:`decide` and applies the :class:`RoutingDecision` inside its own service.

Order: the active rules of the account's unit and its ancestors, hub first then down the tree, by ``position``
within a unit. The first matching rule with ``route_to_team`` (on an active team) sets the team; priority (the
highest wins), tags (union), hide / escalate (any) and auto-acknowledge (first wins) accumulate over every matching
rule; a matching rule with ``stop_processing`` ends the evaluation.

Default route when no rule sets a team (``rule_id`` None):
1. an active *helpers* team of the account's unit, else of the nearest ancestor unit, whose languages cover the
   message language (unknown language: the nearest helpers team, whatever its languages);
2. else an active *moderation* team anywhere in the organisation covering the language (external vendors);
3. else the hub's triage queue: the root unit's active team named "Triage", else the root's first active
   helpers/community team. If the root has none, ``team_id`` is None: call
   :func:`dandelion.routing.services.route` (or ``ensure_triage_team``) which creates "Triage" lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from dandelion.core.memo import config_memoized
from dandelion.inbox.choices import Priority
from dandelion.orgs.choices import TeamKind
from dandelion.routing import conditions as cond

TRIAGE_TEAM_NAME = "Triage"
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


@dataclass(frozen=True)
class RoutingContext:
    text: str
    language: str | None  # detected (or author-declared) ISO 639-1
    country: str | None  # author country if known, else the account's country
    account_id: int
    unit_id: int  # the account's owner unit
    unit_path: str
    network: str
    kind: str  # comment / mention / dm / reply
    intent: str  # question / complaint / praise / other
    sentiment: str  # negative / neutral / positive
    spam: float
    abuse: float
    author_followers: int
    is_vip: bool
    #: the conversation's tags, lower-cased (those added by earlier matching rules are added during evaluation)
    tags: frozenset[str] = frozenset()


@dataclass
class RoutingDecision:
    team_id: int | None
    priority: str | None  # inbox.choices.Priority value or None (keep)
    tags: list[str] = field(default_factory=list)
    hide: bool = False
    escalate: bool = False  # escalate to PR
    auto_reply_canned_id: int | None = None
    rule_id: int | None = None  # the rule that set the team, None for the default route
    matched_rule_ids: list[int] = field(default_factory=list)
    explanation: str = ""

    def as_reason(self) -> dict:
        """JSON for ``Conversation.routing_reason``: ``{"rule": id|None, "explanation": ..., ...}``."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict's deep copy, for flat fields
        data["tags"], data["matched_rule_ids"] = list(self.tags), list(self.matched_rule_ids)
        data["rule"] = self.rule_id
        data["default"] = self.rule_id is None
        return data


def applicable_rules(unit_path: str):
    """Active rules scoped to the unit of ``unit_path`` or one of its ancestors, in evaluation order."""
    from dandelion.routing.models import RoutingRule

    ids = [int(p) for p in unit_path.strip("/").split("/") if p]
    rules = list(RoutingRule.objects.filter(unit_id__in=ids, is_active=True).select_related("unit"))
    rules.sort(key=lambda r: (r.unit.depth, r.position, r.id))
    return rules


def _active_team_names(team_ids) -> dict[int, str]:
    from dandelion.orgs.models import Team

    ids = frozenset(team_ids)
    if not ids:
        return {}
    return config_memoized(("route.team_names", ids), lambda: dict(
        Team.objects.filter(pk__in=ids, is_active=True).values_list("id", "name")))


def decide(ctx: RoutingContext, *, rules=None) -> RoutingDecision:
    """The routing decision for ``ctx``. ``rules`` overrides the stored rules (used by the rule preview)."""
    rules = applicable_rules(ctx.unit_path) if rules is None else rules
    decision = RoutingDecision(team_id=None, priority=None)
    sentences: list[str] = []
    team_names = _active_team_names(r.actions.get("route_to_team") for r in rules if r.actions.get("route_to_team"))
    for rule in rules:
        if decision.tags:  # a tag added by an earlier matching rule counts for the later ones
            ctx = replace(ctx, tags=ctx.tags | {t.lower() for t in decision.tags})
        if not cond.evaluate(rule.conditions or {}, ctx):
            continue
        actions = rule.actions or {}
        if rule.id is not None:
            decision.matched_rule_ids.append(rule.id)
        sentence = (f"Rule '{rule.name}' matched: {cond.describe_conditions(rule.conditions or {})}"
                    f" → {cond.describe_actions(actions, team_names)}")
        team_id = actions.get("route_to_team")
        if team_id is not None and decision.team_id is None:
            if team_id in team_names:
                decision.team_id, decision.rule_id = team_id, rule.id
            else:
                sentence += f" (team #{team_id} is inactive or gone: ignored)"
        elif team_id is not None:
            sentence += " (team already set by an earlier rule)"
        new_priority = actions.get("set_priority")
        if new_priority and (decision.priority is None
                             or PRIORITY_RANK[new_priority] > PRIORITY_RANK[decision.priority]):
            decision.priority = new_priority
        for tag in actions.get("add_tags") or []:
            if tag not in decision.tags:
                decision.tags.append(tag)
        decision.hide = decision.hide or bool(actions.get("hide"))
        decision.escalate = decision.escalate or bool(actions.get("escalate_to_pr"))
        if decision.auto_reply_canned_id is None and actions.get("auto_acknowledge"):
            decision.auto_reply_canned_id = actions["auto_acknowledge"]
        sentences.append(sentence)
        if rule.stop_processing:
            sentences.append(f"Rule '{rule.name}' stops processing")
            break
    if decision.team_id is None:
        decision.team_id, default_text = default_route(ctx)
        sentences.append(default_text)
    decision.explanation = "; ".join(sentences)
    return decision


def default_route(ctx: RoutingContext) -> tuple[int | None, str]:
    """The team for a message no rule routed, and the sentence saying why."""
    from dandelion.orgs.models import OrgUnit, Team

    lang = (ctx.language or "").lower() or None
    ids = [int(p) for p in ctx.unit_path.strip("/").split("/") if p]
    # looked up once per unit chain, not once per message, and kept across batches (core.memo.config_memoized)
    units = config_memoized(("route.units", ctx.unit_path), lambda: {u.id: u for u in OrgUnit.objects.filter(pk__in=ids)})
    helpers = config_memoized(("route.helpers", ctx.unit_path), lambda: list(
        Team.objects.filter(unit_id__in=ids, kind=TeamKind.HELPERS, is_active=True).order_by("name", "id")))
    account_unit = units.get(ctx.unit_id)
    where = account_unit.name if account_unit else f"unit #{ctx.unit_id}"
    for unit_id in reversed(ids):  # nearest first
        for team in helpers:
            if team.unit_id != unit_id:
                continue
            if lang is None:
                return team.id, f"Default: language unknown, so the nearest helpers team {team.name} for {where}"
            if lang in [x.lower() for x in team.languages or []]:
                return team.id, f"Default: {team.name} cover {lang} for {where}"
    if lang is not None:
        vendors = config_memoized(("route.vendors",), lambda: list(
            Team.objects.filter(kind=TeamKind.MODERATION, is_active=True).select_related("unit")
            .order_by("unit__path", "name", "id")))
        for team in vendors:
            if lang in [x.lower() for x in team.languages or []]:
                return team.id, (f"Default: no helpers team covers {lang} for {where}; "
                                 f"vendor team {team.name} ({team.unit.name}) covers {lang}")
    triage = config_memoized(("route.triage",), triage_team)
    why = f"no team covers {lang}" if lang else "language unknown and no helpers team"
    if triage is None:
        return None, f"Default: {why} for {where}; the hub has no triage team yet"
    return triage.id, f"Default: {why} for {where}; sent to the hub's triage queue ({triage.name})"


def triage_team():
    """The hub's triage team: the root's active team named "Triage", else its first helpers/community team."""
    from dandelion.orgs.models import Team

    root_teams = Team.objects.filter(unit__parent__isnull=True, is_active=True).order_by("unit_id", "name", "id")
    return (root_teams.filter(name=TRIAGE_TEAM_NAME).first()
            or root_teams.filter(kind__in=[TeamKind.HELPERS, TeamKind.COMMUNITY]).first())


def context_for_message(message) -> RoutingContext:
    """The routing context of an inbound :class:`dandelion.inbox.models.Message` (reads only)."""
    conversation = message.conversation
    account = conversation.account
    contact = conversation.contact
    identity = message.author_identity
    followers = max(getattr(contact, "followers", 0) or 0, getattr(identity, "followers", 0) or 0)
    return RoutingContext(
        text=message.text or "",
        language=(message.language or conversation.language or None),
        country=(getattr(contact, "country", "") or account.country or None),
        account_id=account.pk,
        unit_id=account.owner_unit_id,
        unit_path=account.owner_unit.path,
        network=account.network,
        kind=message.kind,
        intent=message.intent or "other",
        sentiment=message.sentiment or "neutral",
        spam=message.spam or 0.0,
        abuse=message.abuse or 0.0,
        author_followers=followers,
        is_vip=bool(getattr(contact, "is_vip", False)),
        tags=frozenset(t.name.lower() for t in conversation.tags.all()),  # prefetch ``conversation__tags``
    )
