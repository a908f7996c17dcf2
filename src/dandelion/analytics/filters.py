"""The dashboards' scope and filters, shared by the HTML views and the API: which rollup rows a request reads.

``unit`` / ``team`` / ``account`` (ids) narrow to a subtree, a team or one account, each read through
``restrict()`` (an id outside the caller's scope is a 404, as a missing one); ``network`` and ``language`` filter;
``start`` / ``end`` give the period (``reports.parse_period``). Nothing given: every row the caller may see (the
hub's roll-up over every spoke for a hub role)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from dandelion.analytics.exceptions import BadPeriod
from dandelion.analytics.models import DailyRollup, RollupBlock
from dandelion.analytics.reports import BlockQuery, Period, parse_period
from dandelion.core.exceptions import NotFoundError, PermissionDeniedError
from dandelion.core.permissions import has_perm

PERM_VIEW = "analytics.view_dailyrollup"


@dataclass
class Scope:
    queryset: object
    period: Period
    label: str
    kind: str = "all"  # all / unit / team / account
    unit: object = None
    team: object = None
    account: object = None
    network: str = ""
    language: str = ""
    #: a publishing campaign: narrows the publishing figures to its posts (the inbox figures have no campaign)
    campaign: object = None
    params: dict = field(default_factory=dict)
    #: the pre-merged levels' query when they can answer this scope (``reports.dashboard_for``), else None
    blocks: BlockQuery | None = None
    block_queryset: object = None
    #: what the merged figures depend on besides the rows: the viewer's grants and the parameters (empty: not
    #: cacheable); ``reports.merged_dashboard`` adds the rollups' version
    cache_key: str = ""


def _top_paths(user) -> tuple[str, ...] | None:
    """The unit paths at the top of what ``user`` reads through unit grants (disjoint subtrees), or None when the
    pre-merged levels cannot answer for them: a team-scoped grant that allows analytics reads per-team rows, which
    the blocks do not keep. The blocks are read through ``restrict()`` as well: this only picks their top rows."""
    from dandelion.core.actors import is_system
    from dandelion.core.permissions import get_grants, role_allows
    from dandelion.orgs.models import OrgUnit

    if is_system(user) or getattr(user, "is_superuser", False):
        paths = list(OrgUnit.objects.filter(parent__isnull=True).values_list("path", flat=True))
    else:
        paths = []
        for grant in get_grants(user):
            if not role_allows(grant.role, PERM_VIEW):
                continue
            if grant.team_scoped:
                return None
            paths.append(grant.unit_path)
    return tuple(sorted({p for p in paths if not any(q != p and p.startswith(q) for q in paths)}))


def _id(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise BadPeriod(_("%(name)s must be a number.") % {"name": name}, field=name) from None
    if not 0 < pk < 2**63:
        raise NotFoundError(_("Not found."))
    return pk


def _code(value, name: str, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) > max_length or not all(c.isalnum() or c in "-_" for c in value):
        raise BadPeriod(_("%(name)s is not valid.") % {"name": name}, field=name)
    return value


def resolve(user, params) -> Scope:
    """The rollups ``user`` reads for the query ``params`` (a QueryDict or a dict)."""
    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import OrgUnit, Team

    if not has_perm(user, PERM_VIEW):
        raise PermissionDeniedError(_("You may not view analytics."))
    period = parse_period(params.get("start"), params.get("end"))
    qs = DailyRollup.objects.restrict(user, "view")
    scope = Scope(queryset=qs, period=period, label=_("All your units"))
    unit_id, team_id, account_id = (_id(params.get(n), n) for n in ("unit", "team", "account"))
    if unit_id is not None:
        unit = OrgUnit.objects.restrict(user, "view").filter(pk=unit_id).first()
        if unit is None:
            raise NotFoundError(_("No such unit."))
        qs = qs.filter(unit__path__startswith=unit.path)
        scope.kind, scope.unit, scope.label = "unit", unit, unit.name
    if team_id is not None:
        team = Team.objects.restrict(user, "view").filter(pk=team_id).first()
        if team is None:
            raise NotFoundError(_("No such team."))
        qs = qs.filter(team_id=team.pk)
        scope.kind, scope.team, scope.label = "team", team, team.name
    if account_id is not None:
        account = SocialAccount.objects.restrict(user, "view").filter(pk=account_id).first()
        if account is None:
            raise NotFoundError(_("No such account."))
        qs = qs.filter(account_id=account.pk)
        scope.kind, scope.account, scope.label = "account", account, str(account)
    campaign_id = _id(params.get("campaign"), "campaign")
    if campaign_id is not None:
        scope.campaign = visible_campaigns(user).filter(pk=campaign_id).first()
        if scope.campaign is None:  # the same answer for a missing campaign and one the user cannot see
            raise BadPeriod(_("No such campaign: choose one of the campaigns your units run or take part in."),
                            field="campaign")
    scope.network = _code(params.get("network"), "network", 40)
    scope.language = _code(params.get("language"), "language", 8)
    if scope.network:
        qs = qs.filter(network=scope.network)
    if scope.language:
        qs = qs.filter(language=scope.language)
    scope.queryset = qs
    if team_id is None and not scope.language:
        tops = (scope.unit.path,) if scope.unit is not None else _top_paths(user)
        if tops is not None:
            scope.blocks = BlockQuery(top_paths=tops, network=scope.network,
                                      account_id=scope.account.pk if scope.account is not None else None)
            scope.block_queryset = RollupBlock.objects.restrict(user, "view")
    scope.params = {k: v for k, v in {
        "unit": unit_id, "team": team_id, "account": account_id, "campaign": campaign_id, "network": scope.network,
        "language": scope.language, "start": period.start.isoformat(), "end": period.end.isoformat()}.items()
        if v not in (None, "")}
    scope.cache_key = _cache_key(user, scope.params)
    return scope


def _cache_key(user, params: dict) -> str:
    """A digest of what ``restrict()`` reads for ``user`` (superuser or SYSTEM, and every grant) and of the
    resolved parameters; the campaign only narrows the publishing figures, which are not cached."""
    import hashlib

    from dandelion.core.actors import is_system
    from dandelion.core.permissions import get_grants

    grants = sorted((g.role, g.unit_id, g.unit_path, g.team_id or 0) for g in get_grants(user))
    who = (bool(is_system(user)), bool(getattr(user, "is_superuser", False)), grants)
    what = sorted((k, str(v)) for k, v in params.items() if k != "campaign")
    return hashlib.sha256(repr((who, what)).encode()).hexdigest()


def visible_campaigns(user):
    """The publishing campaigns ``user`` sees, as the publishing app shows them: those their units run (read
    through ``restrict()``) and those their units are assigned to as spokes."""
    from django.db.models import Q

    from dandelion.publishing.models import Campaign, CampaignSpoke

    own = Campaign.objects.restrict(user, "view").values("pk")
    assigned = CampaignSpoke.objects.restrict(user, "view").values("campaign_id")
    return Campaign.objects.filter(Q(pk__in=own) | Q(pk__in=assigned)).order_by("-starts_at", "name")
