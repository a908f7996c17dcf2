"""Campaigns across spokes: the hub creates one (brief, window, master post) and assigns spokes; each spoke
localises it into posts of its own (through its own workflow) or declines with a reason; the hub sees the matrix
of spokes × status and nudges the late ones.

The services here follow ``services.py``'s rules (keyword-only ``actor``, permission on the unit, one transaction,
one audit row). :func:`spoke_status` is the pure rule that turns a spoke's posts into its place in the matrix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.actors import is_system
from dandelion.core.permissions import require_perm
from dandelion.publishing import links, services
from dandelion.publishing.choices import CampaignStatus, PostState
from dandelion.publishing.exceptions import InvalidPost, InvalidRule, InvalidTransition
from dandelion.publishing.models import Campaign, CampaignSpoke, Post

PERM_ADD_CAMPAIGN = "publishing.add_campaign"
PERM_CHANGE_CAMPAIGN = "publishing.change_campaign"  # nudging, assigning more spokes
PERM_DECLINE = "publishing.change_campaignspoke"  # the spoke's lead (spoke admins), and the hub

#: A spoke's status is its least advanced live post's: any draft → drafting, else any in review → in approval...
_ORDER = [
    (PostState.DRAFT, CampaignStatus.DRAFTING),
    (PostState.IN_REVIEW, CampaignStatus.IN_APPROVAL),
    (PostState.APPROVED, CampaignStatus.APPROVED),
    (PostState.FAILED, CampaignStatus.FAILED),
    (PostState.SCHEDULED, CampaignStatus.SCHEDULED),
    (PostState.PAUSED, CampaignStatus.SCHEDULED),
    (PostState.SENDING, CampaignStatus.SCHEDULED),
    (PostState.PUBLISHED, CampaignStatus.PUBLISHED),
]
#: Statuses the hub may nudge (the spoke has something left to do).
NUDGEABLE = frozenset({CampaignStatus.NOT_STARTED, CampaignStatus.DRAFTING, CampaignStatus.IN_APPROVAL,
                       CampaignStatus.APPROVED, CampaignStatus.FAILED})


def spoke_status(post_states: Iterable[str], *, declined: bool = False) -> CampaignStatus:
    """A spoke's place in the matrix from the states of its posts of the campaign (cancelled ones ignored)."""
    states = {s for s in post_states if s != PostState.CANCELLED}
    if declined and not states:
        return CampaignStatus.DECLINED
    for state, status in _ORDER:
        if state in states:
            return status
    return CampaignStatus.NOT_STARTED


@dataclass
class MatrixRow:
    assignment: CampaignSpoke
    status: CampaignStatus
    posts: list[Post] = field(default_factory=list)

    @property
    def can_nudge(self) -> bool:
        return self.status in NUDGEABLE


def campaign_matrix(campaign: Campaign, assignments: Sequence[CampaignSpoke] | None = None) -> list[MatrixRow]:
    """One row per spoke (``assignments``: those the viewer sees; default all), with its status and posts. Two
    queries whatever the number of spokes."""
    rows = list(assignments if assignments is not None
                else campaign.spokes.select_related("unit").order_by("unit__path"))
    posts = list(Post.objects.filter(campaign=campaign).select_related("unit").order_by("created_at", "id"))
    out = []
    for row in rows:
        mine = [p for p in posts if p.unit.path.startswith(row.unit.path)]
        out.append(MatrixRow(row, spoke_status([p.state for p in mine], declined=row.declined_at is not None),
                             mine))
    return out


def status_of(assignment: CampaignSpoke) -> CampaignStatus:
    states = Post.objects.filter(campaign_id=assignment.campaign_id,
                                 unit__path__startswith=assignment.unit.path).values_list("state", flat=True)
    return spoke_status(states, declined=assignment.declined_at is not None)


def _clean_spokes(actor, unit, spokes: Iterable) -> list:
    from dandelion.orgs.models import OrgUnit

    spokes = list(dict.fromkeys(spokes))
    if not spokes:
        raise InvalidRule(_("Assign at least one spoke."), field="spokes")
    visible = set(OrgUnit.objects.restrict(actor, "view").filter(pk__in=[s.pk for s in spokes])
                  .values_list("pk", flat=True))
    for spoke in spokes:
        if spoke.pk not in visible or spoke.pk == unit.pk or not spoke.path.startswith(unit.path):
            raise InvalidRule(_("%(name)s is not a unit below %(name2)s.") % {"name": spoke.name, "name2": unit.name}, field="spokes")
    return spokes


def _window(unit, starts_local: dt.datetime, ends_local: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    tz_name = unit.timezone or "UTC"
    starts = services.resolve_local_time(starts_local, tz_name)
    ends = services.resolve_local_time(ends_local, tz_name)
    if ends <= starts:
        raise InvalidPost(_("The campaign must end after it starts."), field="ends_local")
    if ends < timezone.now():
        raise InvalidPost(_("The campaign's window is over already."), field="ends_local")
    return starts, ends


@transaction.atomic
def create_campaign(*, actor, unit, name: str, master_text: str, starts_local: dt.datetime,
                    ends_local: dt.datetime, spokes: Sequence, brief: str = "",
                    is_sponsored: bool = False, utm=None) -> Campaign:
    """A campaign of ``unit`` (the hub or a region) for ``spokes`` (units below it), its window in ``unit``'s
    time zone."""
    require_perm(actor, PERM_ADD_CAMPAIGN, unit)
    name = (name or "").strip()
    if not name:
        raise InvalidRule(_("Name the campaign."), field="name")
    master_text = services._clean_text(master_text, "master_text")
    if not master_text.strip():
        raise InvalidPost(_("Write the master post."), field="master_text")
    brief = services._clean_text(brief, "brief")[:10000]
    starts, ends = _window(unit, starts_local, ends_local)
    spokes = _clean_spokes(actor, unit, spokes)
    try:
        utm = links.clean_utm(utm)
    except ValueError as exc:
        raise InvalidRule(str(exc), field="utm") from None
    campaign = Campaign.objects.create(unit=unit, name=name[:200], brief=brief, master_text=master_text,
                                       is_sponsored=bool(is_sponsored), starts_at=starts, ends_at=ends, utm=utm,
                                       created_by=None if is_system(actor) else actor)
    CampaignSpoke.objects.bulk_create([CampaignSpoke(campaign=campaign, unit=s) for s in spokes])
    audit.record(actor=actor, action="publishing.campaign.create", obj=campaign,
                 summary=f"Created campaign {campaign} for {len(spokes)} spoke(s)",
                 changes={"spokes": [None, sorted(s.name for s in spokes)],
                          "window": [None, [starts.isoformat(), ends.isoformat()]]})
    return campaign


@transaction.atomic
def assign_spokes(campaign: Campaign, *, actor, spokes: Sequence) -> list[CampaignSpoke]:
    """Add spokes to a campaign (those already assigned are left as they are)."""
    require_perm(actor, PERM_CHANGE_CAMPAIGN, campaign.unit)
    spokes = _clean_spokes(actor, campaign.unit, spokes)
    have = set(campaign.spokes.values_list("unit_id", flat=True))
    new = [CampaignSpoke(campaign=campaign, unit=s) for s in spokes if s.pk not in have]
    CampaignSpoke.objects.bulk_create(new)
    if new:
        audit.record(actor=actor, action="publishing.campaign.assign", obj=campaign,
                     summary=f"Assigned {', '.join(a.unit.name for a in new)}"[:300],
                     changes={"spokes": [None, sorted(a.unit.name for a in new)]})
    return new


@transaction.atomic
def localise_campaign(assignment: CampaignSpoke, *, actor, accounts: Sequence, text: str = "", unit=None,
                      title: str = "", variant_texts: Mapping[int, str] | None = None,
                      scheduled_local: dt.datetime | None = None) -> Post:
    """The spoke's own post of the campaign: a draft (the master text unless ``text`` says otherwise) for its
    accounts, in ``unit`` (the spoke or a unit below it), to send through its own workflow. A spoke that had
    declined takes the campaign up again."""
    campaign = assignment.campaign
    unit = unit or assignment.unit
    if not unit.path.startswith(assignment.unit.path):
        raise InvalidPost(_("%(name)s is not in %(name2)s.") % {"name": unit.name, "name2": assignment.unit.name}, field="unit")
    post = services.create_post(actor=actor, unit=unit, text=text or campaign.master_text, accounts=accounts,
                                title=title or campaign.name, is_sponsored=campaign.is_sponsored,
                                variant_texts=variant_texts, scheduled_local=scheduled_local, campaign=campaign)
    if assignment.declined_at is not None:
        CampaignSpoke.objects.filter(pk=assignment.pk).update(declined_at=None, decline_reason="")
        assignment.declined_at, assignment.decline_reason = None, ""
    audit.record(actor=actor, action="publishing.campaign.localise", obj=assignment,
                 summary=f"{unit.name} localised {campaign} (post {post.pk})"[:300],
                 changes={"post": [None, post.pk]})
    return post


@transaction.atomic
def decline_campaign(assignment: CampaignSpoke, *, actor, reason: str) -> CampaignSpoke:
    """The spoke will not run the campaign (a reason is required; the hub sees it in the matrix). Only while it
    has no live post of the campaign: cancel those first."""
    require_perm(actor, PERM_DECLINE, assignment.unit)
    assignment = CampaignSpoke.objects.select_for_update().select_related("unit", "campaign").get(pk=assignment.pk)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidPost(_("Say why the spoke declines."), field="reason")
    if assignment.declined_at is not None:
        raise InvalidTransition(_("This spoke has declined already."))
    if Post.objects.filter(campaign_id=assignment.campaign_id, unit__path__startswith=assignment.unit.path).exclude(
            state=PostState.CANCELLED).exists():
        raise InvalidTransition(_("The spoke has posts of this campaign: cancel them before declining."))
    assignment.declined_at, assignment.decline_reason = timezone.now(), reason[:500]
    assignment.save(update_fields=["declined_at", "decline_reason"])
    audit.record(actor=actor, action="publishing.campaign.decline", obj=assignment,
                 summary=f"{assignment.unit.name} declined {assignment.campaign}: {reason}"[:300],
                 changes={"declined": [False, True], "reason": ["", reason[:500]]})
    return assignment


@transaction.atomic
def nudge_spoke(assignment: CampaignSpoke, *, actor, message: str = "") -> CampaignSpoke:
    """The campaign's owner reminds a spoke that has something left to do (shown on the spoke's campaign page)."""
    require_perm(actor, PERM_CHANGE_CAMPAIGN, assignment.campaign.unit)
    assignment = CampaignSpoke.objects.select_for_update().select_related("unit", "campaign").get(pk=assignment.pk)
    status = status_of(assignment)
    if status not in NUDGEABLE:
        raise InvalidTransition(_("%(name)s is %(lower)s: nothing to nudge.") % {"name": assignment.unit.name, "lower": status.label.lower()})
    assignment.nudged_at = timezone.now()
    assignment.nudge_count += 1
    assignment.save(update_fields=["nudged_at", "nudge_count"])
    audit.record(actor=actor, action="publishing.campaign.nudge", obj=assignment,
                 summary=f"Nudged {assignment.unit.name} ({status.label}). {message}"[:300],
                 changes={"nudge_count": [assignment.nudge_count - 1, assignment.nudge_count]})
    return assignment
