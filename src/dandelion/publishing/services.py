"""Every write of the publishing app: posts and their variants, guideline checks, approvals, scheduling, sending,
crisis pauses, rules and workflows.

Functions take keyword-only arguments including ``actor``, run in one transaction, check the actor's permission
on the post's unit and write one audit row. The send path (``claim_due`` / ``send_variant``) runs as SYSTEM.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.apps import apps
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.connectors import registry
from dandelion.connectors.base import Capability, OutboundPost
from dandelion.connectors.errors import ConnectorError, UnknownConnector
from dandelion.connectors.text_limits import measure
from dandelion.core import audit
from dandelion.core.actors import SYSTEM, is_system
from dandelion.core.permissions import has_perm, is_hub_admin, require_perm
from dandelion.publishing import checks, links
from dandelion.publishing import slots as slot_rules
from dandelion.publishing.choices import (
    EDITABLE_STATES,
    TERMINAL_STATES,
    Decision,
    PostState,
    RuleKind,
    Severity,
    StepMode,
    VariantState,
)
from dandelion.publishing.exceptions import (
    GuidelineBlocked,
    InvalidPost,
    InvalidRule,
    InvalidTransition,
    NotAnApprover,
)
from dandelion.publishing.models import (
    Approval,
    CrisisPause,
    GuidelineRule,
    Post,
    PostVariant,
    PublishingSettings,
    ShortLink,
    Workflow,
    WorkflowStep,
)

logger = logging.getLogger(__name__)

PERM_ADD = "publishing.add_post"
PERM_CHANGE = "publishing.change_post"
PERM_APPROVE = "publishing.approve_post"
PERM_APPROVE_EXTRA = "publishing.approve_extra_post"  # the hub's extra step (only "*" and "publishing.*" match)
PERM_PAUSE = "publishing.add_crisispause"
PERM_RESUME = "publishing.change_crisispause"
PERM_RULE = "publishing.change_guidelinerule"
PERM_WORKFLOW = "publishing.change_workflow"

#: The extra approval step a "needs approval" check adds after the workflow's steps.
EXTRA_STEP = 0
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 3600
CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_TEXT = 20000


def ancestor_paths(path: str) -> list[str]:
    """``"/1/5/9/"`` → ``["/1/", "/1/5/", "/1/5/9/"]``."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _label(account) -> str:
    from dandelion.assets.networks import network_label

    return f"{network_label(account.network)} {account.handle}"


# --- accounts, variants and texts -----------------------------------------------------------------------------------


def postable_accounts(actor, unit):
    """The live accounts of ``unit``'s subtree that ``actor`` sees (a post goes to these only)."""
    from dandelion.assets.models import SocialAccount

    return (SocialAccount.objects.restrict(actor, "view").live()
            .filter(owner_unit__path__startswith=unit.path).select_related("owner_unit"))


def _check_accounts(actor, unit, accounts: Sequence) -> list:
    accounts = list(dict.fromkeys(accounts))
    if not accounts:
        raise InvalidPost(_("Choose at least one account."), field="accounts")
    allowed = set(postable_accounts(actor, unit).filter(pk__in=[a.pk for a in accounts])
                  .values_list("pk", flat=True))
    for account in accounts:
        if account.pk not in allowed:
            raise InvalidPost(_("%(handle)s is not an account of %(name)s you may post to.") % {"handle": account.handle, "name": unit.name},
                              field="accounts")
    return accounts


def _clean_text(text: str, field: str = "text") -> str:
    text = (text or "").replace("\r\n", "\n")
    if "\x00" in text:
        raise InvalidPost(_("The text holds a NUL character."), field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPost(_("The text holds invalid Unicode (a lone surrogate)."), field=field) from None
    if len(text) > MAX_TEXT:
        raise InvalidPost(_("The text is longer than %(max_text)s characters.") % {"max_text": MAX_TEXT}, field=field)
    return text


def check_lengths(main_text: str, accounts: Sequence, variant_texts: Mapping[int, str]) -> None:
    """``InvalidPost`` naming the network and the field when a variant is too long for its network."""
    for account in accounts:
        text = variant_texts.get(account.pk) or main_text
        m = measure(account.network, text)
        if not m.ok:
            field = f"variant_{account.pk}" if variant_texts.get(account.pk) else "text"
            raise InvalidPost(
                _("Too long for %(account)s: %(length)s of %(limit)s (%(counting)s), %(over)s too many.") % {"account": _label(account), "length": m.length, "limit": m.limit, "counting": m.counting, "over": m.over},
                field=field)


# --- scheduling ------------------------------------------------------------------------------------------------------


def schedule_timezone(unit, accounts: Sequence = ()) -> str:
    """The zone a post's time is entered in: its accounts' unit's when they share one, else the post's unit's."""
    zones = {getattr(a.owner_unit, "timezone", "") or "UTC" for a in accounts}
    if len(zones) == 1:
        return zones.pop()
    return unit.timezone or "UTC"


def resolve_local_time(local: dt.datetime, tz_name: str) -> dt.datetime:
    """``local`` (naive, wall-clock time in ``tz_name``) in UTC; ``InvalidPost`` for a time the clocks skip.

    An ambiguous time (the hour repeated when clocks go back) is its first occurrence."""
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidPost(_("Unknown time zone %(tz_name)r.") % {"tz_name": tz_name}, field="scheduled_at") from None
    if local.tzinfo is not None and local.utcoffset() is not None:
        return local.astimezone(dt.UTC)
    aware = local.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(dt.UTC).astimezone(zone)
    if back.replace(tzinfo=None) != local:
        raise InvalidPost(
            _("%(local)s does not exist in %(tz_name)s: the clocks go forward then. Choose another time.") % {"local": format(local, '%Y-%m-%d %H:%M'), "tz_name": tz_name}, field="scheduled_at")
    return aware.astimezone(dt.UTC)


def _resolve_schedule(local: dt.datetime | None, tz_name: str, *, now: dt.datetime | None = None):
    if local is None:
        return None
    when = resolve_local_time(local, tz_name)
    now = now or timezone.now()
    if when < now - dt.timedelta(seconds=60):
        raise InvalidPost(_("The scheduled time is in the past."), field="scheduled_at")
    return when


def local_schedule(post: Post) -> dt.datetime | None:
    """The post's scheduled time in the zone it was entered in."""
    if post.scheduled_at is None:
        return None
    try:
        return post.scheduled_at.astimezone(ZoneInfo(post.schedule_timezone or "UTC"))
    except ZoneInfoNotFoundError:
        return post.scheduled_at


def check_campaign(campaign, unit, when: dt.datetime | None) -> None:
    """``InvalidPost`` unless ``unit`` is in a spoke assigned to ``campaign`` and ``when`` (if any) falls in its
    window (a campaign launches together: no spoke goes early)."""
    from dandelion.publishing.models import CampaignSpoke

    if not CampaignSpoke.objects.filter(campaign=campaign, unit__path__in=ancestor_paths(unit.path)).exists():
        raise InvalidPost(_("%(unit)s is not a spoke of the campaign “%(campaign)s”.") % {"unit": unit.name, "campaign": campaign.name}, field="campaign")
    if when is not None and not campaign.starts_at <= when <= campaign.ends_at:
        zone = ZoneInfo(unit.timezone or "UTC")
        raise InvalidPost(
            _("The campaign “%(name)s” runs from %(starts)s to %(ends)s (%(zone)s): schedule within it.") % {"name": campaign.name, "starts": format(campaign.starts_at.astimezone(zone), '%Y-%m-%d %H:%M'), "ends": format(campaign.ends_at.astimezone(zone), '%Y-%m-%d %H:%M'), "zone": zone.key},
            field="scheduled_at")


# --- guideline checks ------------------------------------------------------------------------------------------------


def rules_for(unit) -> list[checks.RuleSpec]:
    """The active rules of ``unit`` and every unit above it."""
    rows = GuidelineRule.objects.filter(is_active=True, unit__path__in=ancestor_paths(unit.path)).order_by(
        "unit__path", "name", "id")
    return [checks.RuleSpec(id=r.pk, name=r.name, kind=r.kind, severity=r.severity, params=r.params or {},
                            message=r.message) for r in rows]


def build_target(*, text: str, accounts: Sequence, variant_texts: Mapping[int, str] | None = None,
                 is_sponsored: bool = False, alt_texts: Sequence[str] = ()) -> checks.CheckTarget:
    variant_texts = variant_texts or {}
    return checks.CheckTarget(
        variants=[checks.VariantText(account_id=a.pk, network=a.network, label=_label(a),
                                     text=variant_texts.get(a.pk) or text, languages=tuple(a.languages or ()))
                  for a in accounts],
        is_sponsored=is_sponsored, alt_texts=tuple(alt_texts))


def preview_checks(*, unit, text: str, accounts: Sequence, variant_texts: Mapping[int, str] | None = None,
                   is_sponsored: bool = False, alt_texts: Sequence[str] = ()) -> list[checks.CheckResult]:
    """The checks of an unsaved text (the editor's live panel); nothing is written."""
    target = build_target(text=text, accounts=accounts, variant_texts=variant_texts, is_sponsored=is_sponsored,
                          alt_texts=alt_texts)
    return checks.run_checks(target, rules_for(unit))


def post_target(post: Post, variants: Iterable[PostVariant] | None = None) -> checks.CheckTarget:
    variants = list(variants if variants is not None else post.variants.select_related("account"))
    return build_target(text=post.text, accounts=[v.account for v in variants],
                        variant_texts={v.account_id: v.text for v in variants if v.text},
                        is_sponsored=post.is_sponsored, alt_texts=[m.alt_text for m in post.media.all()])


def run_post_checks(post: Post) -> list[dict]:
    """Run the checks on the saved post and store them on it (no audit: a computed fact)."""
    from dandelion.orgs.models import Guideline

    results = [r.as_dict() for r in checks.run_checks(post_target(post), rules_for(post.unit))]
    current = Guideline.current()
    post.checks, post.checked_at = results, timezone.now()
    post.guideline_version = current.version if current else None
    Post.objects.filter(pk=post.pk).update(checks=results, checked_at=post.checked_at,
                                           guideline_version=post.guideline_version)
    return results


# --- posts -------------------------------------------------------------------------------------------------------------


def _snapshot(post: Post) -> dict[str, Any]:
    data = audit.snapshot(post, ["title", "text", "state", "is_sponsored", "scheduled_at", "schedule_timezone",
                                 "review_round"])
    data["variants"] = {str(v.account_id): v.text for v in post.variants.all()}
    return data


def _set_variants(post: Post, accounts: Sequence, variant_texts: Mapping[int, str]) -> None:
    keep = {a.pk for a in accounts}
    post.variants.exclude(account_id__in=keep).delete()
    existing = {v.account_id: v for v in post.variants.all()}
    for account in accounts:
        text = _clean_text(variant_texts.get(account.pk, ""), f"variant_{account.pk}").strip()
        variant = existing.get(account.pk)
        if variant is None:
            PostVariant(post=post, account=account, text=text).save()
        elif variant.text != text:
            variant.text = text
            variant.save(update_fields=["text"])


@transaction.atomic
def create_post(*, actor, unit, text: str, accounts: Sequence, title: str = "", is_sponsored: bool = False,
                variant_texts: Mapping[int, str] | None = None, scheduled_local: dt.datetime | None = None,
                campaign=None) -> Post:
    """A draft for ``accounts`` of ``unit``'s subtree; every variant must fit its network. A post of a
    ``campaign`` is drafted in a spoke assigned to it, and its time falls in the campaign's window."""
    require_perm(actor, PERM_ADD, unit)
    text = _clean_text(text)
    if not text.strip():
        raise InvalidPost(_("Write the post's text."), field="text")
    accounts = _check_accounts(actor, unit, accounts)
    variant_texts = {int(k): v for k, v in (variant_texts or {}).items() if v and v.strip()}
    check_lengths(text, accounts, variant_texts)
    tz_name = schedule_timezone(unit, accounts)
    when = _resolve_schedule(scheduled_local, tz_name)
    if campaign is not None:
        check_campaign(campaign, unit, when)
    post = Post.objects.create(unit=unit, author=None if is_system(actor) else actor, title=(title or "")[:200],
                               text=text, is_sponsored=bool(is_sponsored), scheduled_at=when,
                               schedule_timezone=tz_name, campaign=campaign)
    _set_variants(post, accounts, variant_texts)
    audit.record(actor=actor, action="publishing.post.create", obj=post,
                 summary=f"Drafted a post for {len(accounts)} account(s)", changes=audit.diff({}, _snapshot(post)))
    return post


@transaction.atomic
def update_post(post: Post, *, actor, text: str | None = None, title: str | None = None,
                is_sponsored: bool | None = None, accounts: Sequence | None = None,
                variant_texts: Mapping[int, str] | None = None, scheduled_local: dt.datetime | None = None,
                clear_schedule: bool = False) -> Post:
    """Edit a post; editing one already in review, approved or scheduled sends it back to review (its checks run
    again; a blocking one puts it back to draft)."""
    require_perm(actor, PERM_CHANGE, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state not in EDITABLE_STATES:
        raise InvalidTransition(_("A %(state)s post cannot be edited.") % {"state": post.get_state_display().lower()})
    before = _snapshot(post)
    if text is not None:
        text = _clean_text(text)
        if not text.strip():
            raise InvalidPost(_("Write the post's text."), field="text")
        post.text = text
    if title is not None:
        post.title = title[:200]
    if is_sponsored is not None:
        post.is_sponsored = bool(is_sponsored)
    current = {v.account_id: v for v in post.variants.select_related("account", "account__owner_unit")}
    if accounts is not None:
        accounts = _check_accounts(actor, post.unit, accounts)
    else:
        accounts = [v.account for v in current.values()]
    if variant_texts is None:
        variant_texts = {k: v.text for k, v in current.items() if v.text}
    variant_texts = {int(k): v for k, v in variant_texts.items() if v and v.strip()}
    check_lengths(post.text, accounts, variant_texts)
    post.schedule_timezone = schedule_timezone(post.unit, accounts)
    if clear_schedule:
        post.scheduled_at = None
    elif scheduled_local is not None:
        post.scheduled_at = _resolve_schedule(scheduled_local, post.schedule_timezone)
        if post.campaign_id:
            check_campaign(post.campaign, post.unit, post.scheduled_at)
    post.save()
    _set_variants(post, accounts, variant_texts)
    after = _snapshot(post)
    diff = audit.diff(before, after)
    if not diff:
        return post
    sent_back = post.state != PostState.DRAFT and set(diff) - {"title"}
    if sent_back:
        _resubmit(post, actor=actor, reason="edited")
    audit.record(actor=actor, action="publishing.post.update", obj=post,
                 summary=f"Edited the post{' (sent back to review)' if sent_back else ''}", changes=diff)
    return post


def _resubmit(post: Post, *, actor, reason: str) -> None:
    results = run_post_checks(post)
    post.review_round += 1
    post.variants.exclude(state=VariantState.SENT).update(state=VariantState.PENDING, due_at=None)
    if checks.blocking(results):
        post.state = PostState.DRAFT
    else:
        _enter_review(post, results)
    post.save(update_fields=["state", "review_round", "needs_extra_approval", "workflow", "updated_at"])


def require_enabled(actor, unit) -> None:
    """The enablement gate: a person who has not completed what their role on ``unit`` requires (a certification,
    the current guidelines acknowledged: the community app's ``may_publish``) may draft, but not submit, schedule or
    queue a post. Raises the community app's ``EnablementRequired`` (403, with the learning path's link). SYSTEM
    passes; without the community app installed there is nothing to require."""
    if is_system(actor) or not apps.is_installed("dandelion.community"):
        return
    from dandelion.community import services as community

    community.require_publish(actor, unit)


def workflow_for(unit) -> Workflow | None:
    """The deepest active workflow bound to ``unit`` or a unit above it."""
    rows = list(Workflow.objects.filter(is_active=True, unit__path__in=ancestor_paths(unit.path))
                .select_related("unit"))
    return max(rows, key=lambda w: (len(w.unit.path), w.pk)) if rows else None


def _enter_review(post: Post, results: list[dict]) -> None:
    post.needs_extra_approval = checks.needs_approval(results)
    post.workflow = workflow_for(post.unit)
    post.state = PostState.IN_REVIEW
    if not pending_steps(post):
        _approved(post)


def _approved(post: Post) -> None:
    post.state = PostState.APPROVED
    if post.scheduled_at is not None:
        _to_scheduled(post, post.scheduled_at)


def _to_scheduled(post: Post, when: dt.datetime) -> None:
    post.state = PostState.SCHEDULED
    post.scheduled_at = when
    post.save(update_fields=["state", "scheduled_at", "updated_at"])
    post.variants.filter(state__in=[VariantState.PENDING, VariantState.FAILED]).update(
        state=VariantState.PENDING, due_at=when, last_error="")
    wake_sender_at([when])


def wake_sender_at(times: Iterable[dt.datetime]) -> None:
    """Once the transaction commits, have the send job run at each of ``times`` (``jobs.wake_sender``: one
    deferred run per second however many posts fall due in it), so a post goes at its time rather than at the
    next periodic run."""
    wanted = sorted({int(t.timestamp()) for t in times if t is not None})
    if not wanted:
        return

    def wake() -> None:
        from dandelion.publishing.jobs import wake_sender

        for stamp in wanted:
            wake_sender(dt.datetime.fromtimestamp(stamp, tz=dt.UTC))

    transaction.on_commit(wake)


@transaction.atomic
def submit_post(post: Post, *, actor) -> Post:
    """Send a draft to review: the checks run first; a blocking one refuses (``GuidelineBlocked`` with them)."""
    require_perm(actor, PERM_CHANGE, post.unit)
    require_enabled(actor, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != PostState.DRAFT:
        raise InvalidTransition(_("Only a draft can be submitted."))
    if post.scheduled_at is not None and post.scheduled_at < timezone.now():
        raise InvalidPost(_("The scheduled time has passed: choose another."), field="scheduled_at")
    results = run_post_checks(post)
    blocked = checks.blocking(results)
    if blocked:
        raise GuidelineBlocked("Blocked by the guidelines: " + " ".join(r["message"] for r in blocked),
                               results=results)
    post.review_round += 1
    _enter_review(post, results)
    post.save()
    audit.record(actor=actor, action="publishing.post.submit", obj=post,
                 summary=f"Submitted the post ({post.get_state_display()})",
                 changes={"state": [PostState.DRAFT, post.state]})
    return post


# --- approvals ---------------------------------------------------------------------------------------------------------


@dataclass
class StepStatus:
    order: int
    name: str
    role: str
    mode: str
    approved_by: list[str]
    done: bool


def _eligible_users(post: Post, role: str) -> set[int]:
    from dandelion.orgs.models import Membership

    return set(Membership.objects.filter(role=role, is_active=True, user__is_active=True,
                                         unit__path__in=ancestor_paths(post.unit.path))
               .exclude(user_id=post.author_id).values_list("user_id", flat=True))


def step_statuses(post: Post) -> list[StepStatus]:
    """Every step of the post's review round, in order, with who approved it (the extra step last)."""
    approvals = [a for a in post.approvals.all() if a.review_round == post.review_round
                 and a.decision == Decision.APPROVE]
    out: list[StepStatus] = []
    steps: list[Any] = list(post.workflow.steps.all()) if post.workflow_id else []
    for step in steps:
        by = [a for a in approvals if a.step_order == step.order]
        done_ids = {a.user_id for a in by}
        if step.mode == StepMode.ALL:
            eligible = _eligible_users(post, step.role)
            done = bool(done_ids) and eligible <= done_ids
        else:
            done = bool(done_ids)
        out.append(StepStatus(step.order, step.name, step.role, step.mode,
                              [str(a.user) for a in by], done))
    if post.needs_extra_approval:
        by = [a for a in approvals if a.step_order == EXTRA_STEP]
        out.append(StepStatus(EXTRA_STEP, "Guidelines: extra approval", "hub", StepMode.ANY,
                              [str(a.user) for a in by], bool(by)))
    return out


def pending_steps(post: Post) -> list[StepStatus]:
    return [s for s in step_statuses(post) if not s.done]


def may_approve(user, post: Post, step: StepStatus | None = None) -> bool:
    """May ``user`` approve ``step`` (default: the post's current step)? Never their own post."""
    if post.state != PostState.IN_REVIEW:
        return False
    step = step or next(iter(pending_steps(post)), None)
    if step is None or user is None or not getattr(user, "is_authenticated", False) and not is_system(user):
        return False
    if post.author_id is not None and getattr(user, "pk", None) == post.author_id:
        return False
    if not has_perm(user, PERM_APPROVE, post.unit):
        return False
    if step.order == EXTRA_STEP and step.role == "hub":
        return has_perm(user, PERM_APPROVE_EXTRA, post.unit)
    if is_system(user) or is_hub_admin(user):
        return True  # the hub admin may approve any step (an override, audited with the step's name)
    return user.pk in _eligible_users(post, step.role)


@transaction.atomic
def approve_post(post: Post, *, actor, comment: str = "") -> Post:
    """Approve the post's current step; the last one approves the post (scheduled at once when it has a time)."""
    require_perm(actor, PERM_APPROVE, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != PostState.IN_REVIEW:
        raise InvalidTransition(_("Only a post in review can be approved."))
    pending = pending_steps(post)
    step = pending[0] if pending else None
    if step is None:
        raise InvalidTransition(_("Nothing left to approve."))
    if post.author_id is not None and getattr(actor, "pk", None) == post.author_id:
        raise NotAnApprover(_("You cannot approve your own post."))
    if not may_approve(actor, post, step):
        raise NotAnApprover(_("You may not approve the step “%(name)s”.") % {"name": step.name})
    Approval.objects.create(post=post, review_round=post.review_round, step_order=step.order,
                            user=None if is_system(actor) else actor, decision=Decision.APPROVE,
                            comment=(comment or "")[:5000])
    if not pending_steps(post):
        if post.scheduled_at is not None and post.scheduled_at < timezone.now():
            post.state = PostState.APPROVED  # the approval came after its time: it waits for a new one
            post.last_error = "The approval came after the scheduled time: pending reschedule."
        else:
            _approved(post)
        post.save()
    audit.record(actor=actor, action="publishing.post.approve", obj=post,
                 summary=f"Approved “{step.name}”", changes={"state": [PostState.IN_REVIEW, post.state]})
    return post


@transaction.atomic
def request_changes(post: Post, *, actor, comment: str) -> Post:
    """Send the post back to its author as a draft, with what to change (a comment is required)."""
    require_perm(actor, PERM_APPROVE, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != PostState.IN_REVIEW:
        raise InvalidTransition(_("Changes can be requested on a post in review only."))
    if not (comment or "").strip():
        raise InvalidPost(_("Say what to change."), field="comment")
    if not may_approve(actor, post):
        raise NotAnApprover(_("You are not a reviewer of this post's current step."))
    step = pending_steps(post)[0]
    Approval.objects.create(post=post, review_round=post.review_round, step_order=step.order,
                            user=None if is_system(actor) else actor, decision=Decision.REQUEST_CHANGES,
                            comment=comment[:5000])
    post.state = PostState.DRAFT
    post.save(update_fields=["state", "updated_at"])
    audit.record(actor=actor, action="publishing.post.request_changes", obj=post,
                 summary=f"Requested changes: {comment[:200]}", changes={"state": [PostState.IN_REVIEW, post.state]})
    return post


@transaction.atomic
def comment_post(post: Post, *, actor, comment: str) -> Approval:
    require_perm(actor, "publishing.view_post", post.unit)
    if not (comment or "").strip():
        raise InvalidPost(_("Write a comment."), field="comment")
    row = Approval.objects.create(post=post, review_round=post.review_round, step_order=None,
                                  user=None if is_system(actor) else actor, decision=Decision.COMMENT,
                                  comment=comment[:5000])
    audit.record(actor=actor, action="publishing.post.comment", obj=post, summary=comment[:200])
    return row


# --- schedule, cancel --------------------------------------------------------------------------------------------------


def active_pause_for(unit) -> CrisisPause | None:
    return CrisisPause.objects.filter(ended_at__isnull=True, unit__path__in=ancestor_paths(unit.path)).first()


@transaction.atomic
def schedule_post(post: Post, *, actor, scheduled_local: dt.datetime | None = None) -> Post:
    """Schedule an approved (or paused, once the pause is over) post at ``scheduled_local`` (the accounts' time
    zone), or now when None."""
    require_perm(actor, PERM_CHANGE, post.unit)
    require_enabled(actor, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state not in (PostState.APPROVED, PostState.SCHEDULED, PostState.PAUSED):
        raise InvalidTransition(_("Only an approved post can be scheduled."))
    if post.state == PostState.PAUSED and active_pause_for(post.unit):
        raise InvalidTransition(_("A crisis pause holds this post: resume the pause first."))
    before = post.state
    when = _resolve_schedule(scheduled_local, post.schedule_timezone) if scheduled_local else timezone.now()
    if post.campaign_id:
        check_campaign(post.campaign, post.unit, when)
    post.last_error = ""
    _to_scheduled(post, when)
    if active_pause_for(post.unit):  # scheduled into a paused subtree: held until the pause ends
        post.state = PostState.PAUSED
    post.save(update_fields=["last_error", "state"])
    audit.record(actor=actor, action="publishing.post.schedule", obj=post,
                 summary=f"Scheduled for {when:%Y-%m-%d %H:%M} UTC", changes={"state": [before, post.state]})
    return post


#: States whose time may be moved on the calendar (a post sending or done has no time left to move).
MOVABLE_STATES = frozenset({PostState.DRAFT, PostState.IN_REVIEW, PostState.APPROVED, PostState.SCHEDULED,
                            PostState.PAUSED})


def move_post(post: Post, *, actor, when: dt.datetime) -> Post:
    """Move a post to the instant ``when`` (the calendar's drag and drop), read as a wall-clock time in the post's
    own zone: an approved, scheduled or paused post is rescheduled (``schedule_post``: no new review; a time the
    clocks skip or in the past is refused), a draft or a post in review gets the new time (``update_post``: a post
    in review goes through a new round)."""
    require_perm(actor, PERM_CHANGE, post.unit)
    if post.state not in MOVABLE_STATES:
        raise InvalidTransition(_("A %(state)s post cannot be moved.") % {"state": post.get_state_display().lower()})
    local = when.astimezone(ZoneInfo(post.schedule_timezone or "UTC")).replace(tzinfo=None)
    if post.state in (PostState.APPROVED, PostState.SCHEDULED, PostState.PAUSED):
        return schedule_post(post, actor=actor, scheduled_local=local)
    return update_post(post, actor=actor, scheduled_local=local)


@transaction.atomic
def cancel_post(post: Post, *, actor, reason: str = "") -> Post:
    require_perm(actor, PERM_CHANGE, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state in TERMINAL_STATES or post.state == PostState.SENDING:
        raise InvalidTransition(_("A %(state)s post cannot be cancelled.") % {"state": post.get_state_display().lower()})
    before = post.state
    post.state = PostState.CANCELLED
    post.save(update_fields=["state", "updated_at"])
    post.variants.filter(state__in=[VariantState.PENDING, VariantState.FAILED]).update(
        state=VariantState.CANCELLED)
    audit.record(actor=actor, action="publishing.post.cancel", obj=post, summary=f"Cancelled. {reason}"[:300],
                 changes={"state": [before, post.state]})
    return post


# --- crisis pause ------------------------------------------------------------------------------------------------------


@transaction.atomic
def pause_subtree(*, actor, unit, reason: str) -> CrisisPause:
    """Hold every scheduled post of ``unit``'s subtree, at once: their posts become "paused" in the same
    transaction, and the send job re-checks the pause when it claims (so a job already queued never sends)."""
    require_perm(actor, PERM_PAUSE, unit)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRule(_("Give the reason for the pause."), field="reason")
    if CrisisPause.objects.filter(ended_at__isnull=True, unit=unit).exists():
        raise InvalidRule(_("%(name)s is already paused.") % {"name": unit.name}, field="unit")
    pause = CrisisPause.objects.create(unit=unit, reason=reason[:500], started_at=timezone.now(),
                                       started_by=None if is_system(actor) else actor)
    held = Post.objects.filter(unit__path__startswith=unit.path,
                               state__in=[PostState.SCHEDULED, PostState.SENDING]).update(
        state=PostState.PAUSED, updated_at=timezone.now())
    pause.posts_paused = held
    pause.save(update_fields=["posts_paused"])
    audit.record(actor=actor, action="publishing.pause.start", obj=pause,
                 summary=f"Paused {held} scheduled post(s) of {unit.name}: {reason}"[:300],
                 changes={"posts_paused": [0, held]})
    return pause


@transaction.atomic
def resume_pause(pause: CrisisPause, *, actor) -> dict[str, int]:
    """End the pause: posts still ahead of their time are scheduled again; those that fell due stay paused for
    someone to reschedule or cancel. Returns the counts."""
    require_perm(actor, PERM_RESUME, pause.unit)
    pause = CrisisPause.objects.select_for_update().get(pk=pause.pk)
    if pause.ended_at is not None:
        raise InvalidTransition(_("This pause is already over."))
    pause.ended_at, pause.ended_by = timezone.now(), None if is_system(actor) else actor
    pause.save(update_fields=["ended_at", "ended_by"])
    still = CrisisPause.objects.filter(ended_at__isnull=True).values_list("unit__path", flat=True)
    now = timezone.now()
    resumed = fell_due = 0
    for post in Post.objects.filter(unit__path__startswith=pause.unit.path, state=PostState.PAUSED).select_related(
            "unit"):
        if any(post.unit.path.startswith(p) for p in still):
            continue
        if post.scheduled_at and post.scheduled_at > now:
            post.state = PostState.SCHEDULED if not post.variants.filter(
                state=VariantState.SENT).exists() else PostState.SENDING
            post.save(update_fields=["state", "updated_at"])
            wake_sender_at([post.scheduled_at])
            resumed += 1
        else:
            fell_due += 1
    audit.record(actor=actor, action="publishing.pause.end", obj=pause,
                 summary=f"Resumed {pause.unit.name}: {resumed} rescheduled, {fell_due} fell due meanwhile",
                 changes={"resumed": [0, resumed], "fell_due": [0, fell_due]})
    return {"resumed": resumed, "fell_due": fell_due}


# --- sending -----------------------------------------------------------------------------------------------------------


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with jitter (30 s, 60 s, 120 s... at most an hour), or what the network asked."""
    base = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    seconds = max(retry_after or 0, base * (0.8 + 0.4 * random.random()))
    return dt.timedelta(seconds=seconds)


def claim_due(*, now: dt.datetime | None = None, limit: int = 100, worker: str = "") -> list[int]:
    """Claim up to ``limit`` due variants for ``worker``: each in its own short transaction that locks the post
    row, re-checks its state and the pauses, then moves the variant pending → sending with a conditional UPDATE
    (two workers never claim the same variant). Returns the claimed ids."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _claim_due_pg(now=now, limit=limit, worker=worker)
    rows = list(PostVariant.objects.filter(state=VariantState.PENDING, due_at__lte=now,
                                           post__state__in=[PostState.SCHEDULED, PostState.SENDING])
                .order_by("due_at", "id").values_list("id", "post_id")[:limit])
    claimed: list[int] = []
    for vid, pid in rows:
        with transaction.atomic():
            post = (Post.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=pid, state__in=[PostState.SCHEDULED, PostState.SENDING])
                    .values("id", "state", "unit__path").first())
            if post is None:
                continue  # paused, cancelled, or locked by the pause / another worker right now
            # read in this transaction, after the lock: a pause committed meanwhile is seen
            paused_paths = list(CrisisPause.objects.filter(ended_at__isnull=True)
                                .values_list("unit__path", flat=True))
            if any(post["unit__path"].startswith(p) for p in paused_paths):
                continue
            n = PostVariant.objects.filter(pk=vid, state=VariantState.PENDING, due_at__lte=now).update(
                state=VariantState.SENDING, claimed_at=now, claimed_by=worker[:200], attempts=F("attempts") + 1)
            if n:
                claimed.append(vid)
                if post["state"] == PostState.SCHEDULED:
                    Post.objects.filter(pk=pid, state=PostState.SCHEDULED).update(state=PostState.SENDING)
    return claimed


_CLAIM_SQL = """
WITH due AS (
    SELECT v.id, v.post_id FROM publishing_postvariant v
    JOIN publishing_post p ON p.id = v.post_id
    JOIN orgs_orgunit u ON u.id = p.unit_id
    WHERE v.state = 'pending' AND v.due_at <= %(now)s AND p.state IN ('scheduled', 'sending')
      AND NOT EXISTS (SELECT 1 FROM publishing_crisispause c JOIN orgs_orgunit cu ON cu.id = c.unit_id
                      WHERE c.ended_at IS NULL AND u.path LIKE cu.path || '%%')
    ORDER BY v.due_at, v.id
    LIMIT %(limit)s
    FOR UPDATE OF v, p SKIP LOCKED
), claimed AS (
    UPDATE publishing_postvariant v SET state = 'sending', claimed_at = %(now)s, claimed_by = %(worker)s,
           attempts = v.attempts + 1
    FROM due WHERE v.id = due.id
    RETURNING v.id, v.post_id
), posts AS (
    UPDATE publishing_post p SET state = 'sending'
    WHERE p.id IN (SELECT post_id FROM claimed) AND p.state = 'scheduled'
)
SELECT id FROM claimed ORDER BY id
"""


def _claim_due_pg(*, now: dt.datetime, limit: int, worker: str) -> list[int]:
    """The claim in one statement on PostgreSQL: the due variants and their posts are locked (``SKIP LOCKED``:
    rows another worker, or a pause being written, holds are left for later); a post a pause committed meanwhile
    fails the re-checked ``p.state`` condition, and the pauses committed before the statement are read by it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"now": now, "limit": limit, "worker": worker[:200]})
        return [row[0] for row in cursor.fetchall()]


def _finish(variant: PostVariant, worker: str, **fields) -> bool:
    return PostVariant.objects.filter(pk=variant.pk, state=VariantState.SENDING, claimed_by=worker).update(
        **fields) == 1


def _send_loaded(variant: PostVariant, *, worker: str, now: dt.datetime | None = None,
                 rules_cache: dict[str, list] | None = None, deferred: list | None = None) -> str:
    """Send one claimed variant (loaded with its post, unit and account); its post's state is not refreshed."""
    from dandelion.assets import services as asset_services
    from dandelion.inbox.connect import account_ref

    if variant.state != VariantState.SENDING or variant.claimed_by != worker[:200]:
        return variant.state
    post = variant.post
    cache = rules_cache if rules_cache is not None else {}
    rules = cache.get(post.unit.path)
    if rules is None:
        rules = cache[post.unit.path] = rules_for(post.unit)
    results = checks.run_checks(post_target(post, [variant]), rules)
    blocked = checks.blocking(results)
    if blocked:
        error = "Blocked by the guidelines before sending: " + " ".join(r.message for r in blocked)
        _finish(variant, worker, state=VariantState.FAILED, last_error=error[:500])
        return VariantState.FAILED
    ref = account_ref(variant.account)
    try:
        connector = registry.connector_for(ref)
        if not connector.supports(Capability.PUBLISHING, ref.config):
            raise ConnectorError(_("%(account)s cannot publish (its connector has no publishing).") % {"account": _label(variant.account)},
                                 permanent=True)
        media = list(post.media.all())
        text = _outgoing_text(variant, cache.setdefault("\0settings", {}))
        sent = connector.publish(ref, OutboundPost(  # type: ignore[attr-defined]
            text=text, idempotency_key=variant.idempotency_key,
            media_urls=[m.file.url for m in media], alt_texts=[m.alt_text for m in media]))
    except (ConnectorError, UnknownConnector) as exc:
        permanent = getattr(exc, "permanent", True)
        message = str(getattr(exc, "message", exc))[:500]
        if permanent or variant.attempts >= MAX_ATTEMPTS:
            _finish(variant, worker, state=VariantState.FAILED, last_error=message)
            if permanent:
                asset_services.record_account_error(variant.account, error=message, actor=SYSTEM)
            return VariantState.FAILED
        due = (now or timezone.now()) + backoff(variant.attempts, getattr(exc, "retry_after", None))
        _finish(variant, worker, state=VariantState.PENDING, due_at=due, last_error=message, claimed_by="")
        return VariantState.PENDING
    if deferred is not None:  # written with the batch's others (the idempotency key covers a death meanwhile)
        variant.state, variant.external_id = VariantState.SENT, sent.external_id[:200]
        variant.external_url, variant.sent_at, variant.last_error = (sent.url or "")[:500], sent.sent_at, ""
        deferred.append(variant)
        return VariantState.SENT
    _finish(variant, worker, state=VariantState.SENT, external_id=sent.external_id[:200],
            external_url=(sent.url or "")[:500], sent_at=sent.sent_at, last_error="")
    return VariantState.SENT


def _outgoing_text(variant: PostVariant, settings_cache: dict) -> str:
    """The variant's text with its links tagged / shortened (``links.prepare_text``); when the tagged text no
    longer fits the network (long UTM links on a network counting every character), the text as approved goes."""
    text = variant.effective_text
    out = links.prepare_text(variant, text, cache=settings_cache)
    if out != text and not measure(variant.account.network, out).ok:
        logger.warning("Variant %s: tagged links do not fit %s; sent untagged.", variant.pk, variant.account.network)
        return text
    return out


def _load_claimed(ids: Sequence[int]):
    return (PostVariant.objects.filter(pk__in=list(ids))
            .select_related("post", "post__unit", "account", "account__owner_unit", "post__campaign")
            .prefetch_related("post__media").order_by("due_at", "id"))


def send_variant(variant_id: int, *, worker: str = "", now: dt.datetime | None = None) -> str:
    """Send one claimed variant through its account's connector; returns its new state.

    The guideline checks run once more first. Transient errors go back to pending after a backoff (failed after
    ``MAX_ATTEMPTS``); permanent ones fail the variant and are noted on the account's health."""
    variant = _load_claimed([variant_id]).get()
    state = _send_loaded(variant, worker=worker, now=now)
    if state != VariantState.PENDING:
        refresh_post_state(variant.post_id, post=variant.post)
    if state == VariantState.SENT:
        variant.refresh_from_db(fields=["external_id", "sent_at"])
        record_in_inbox([variant])
    return state


def record_in_inbox(variants: Sequence[PostVariant]) -> int:
    """The sent variants enter the inbox as the brand's own posts (``inbox.services.record_own_posts``), the
    roots that the network's comments thread under. After the send is committed and never in its way: an inbox
    error is logged, the post stays published (a later call for the same variant is a no-op there)."""
    if not apps.is_installed("dandelion.inbox"):
        return 0
    from dandelion.inbox import services as inbox_services

    own = [inbox_services.OwnPost(account=v.account, external_id=v.external_id,
                                  text=v.effective_text, sent_at=v.sent_at or timezone.now(),
                                  author_user_id=v.post.author_id)
           for v in variants if v.external_id]
    try:
        return len(inbox_services.record_own_posts(own, actor=SYSTEM))
    except Exception:  # the post is out: the inbox copy must never undo or fail the send
        logger.exception("storing %d sent variant(s) in the inbox failed", len(own))
        return 0


def send_claimed(ids: Sequence[int], *, worker: str = "", now: dt.datetime | None = None) -> dict[str, int]:
    """Send the variants ``worker`` claimed (loaded in one query, the rules read once per unit), then write the
    sent ones and their posts' states in one transaction (one commit per batch, not three per post). A worker
    killed before that commit leaves its variants claimed: recovered after the lease, they are sent again with the
    same idempotency keys and the network answers with the posts already made. A variant that raises fails
    alone; the others go on."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    rules_cache: dict[str, list] = {}
    touched: dict[int, Post] = {}
    deferred: list[PostVariant] = []
    for variant in _load_claimed(ids):
        try:
            state = _send_loaded(variant, worker=worker, now=now, rules_cache=rules_cache, deferred=deferred)
        except Exception:  # a bad variant fails alone, visibly; the worker goes on
            logger.exception("sending post variant %s failed", variant.pk)
            continue
        counts[{"sent": "sent", "failed": "failed"}.get(state, "retry")] += 1
        if state != VariantState.PENDING:
            touched[variant.post_id] = variant.post
    with transaction.atomic():
        if deferred:
            PostVariant.objects.filter(pk__in=[v.pk for v in deferred]).update(
                state=VariantState.SENT, sent_at=timezone.now(), last_error="")
            PostVariant.objects.bulk_update(deferred, ["external_id", "external_url"], batch_size=500)
        refresh_post_states(touched)
    if deferred:  # the inbox copy is a job of its own: never in the way of the next claim (see record_sent)
        from dandelion.publishing.jobs import record_sent_in_inbox

        try:
            record_sent_in_inbox.enqueue([v.pk for v in deferred])
        except Exception:  # the posts are out: a lost inbox copy is logged, never a failed send
            logger.exception("enqueueing the inbox copy of %d sent variant(s) failed", len(deferred))
    return counts


def record_sent(variant_ids: Sequence[int]) -> int:
    """The inbox copy of sent variants (``record_in_inbox``), run by the job that ``send_claimed`` enqueues:
    storing the brand's own posts cost two thirds of a send batch's time (profile in docs/benchmarks.md §10), so
    it runs after the batch, on any worker, and never delays the next claim. Idempotent (already stored: skipped)."""
    variants = list(PostVariant.objects.filter(pk__in=list(variant_ids), state=VariantState.SENT)
                    .exclude(external_id="").select_related("account", "post").order_by("id"))
    return record_in_inbox(variants) if variants else 0


def refresh_post_states(posts: Mapping[int, Post]) -> list[int]:
    """``refresh_post_state`` for many posts: their variants read in one query, the changed posts locked (in id
    order) and written with one audit row each. Returns the ids whose state changed."""
    if not posts:
        return []
    by_post: dict[int, list[tuple[str, str]]] = {}
    for post_id, state, error in PostVariant.objects.filter(post_id__in=list(posts)).values_list(
            "post_id", "state", "last_error"):
        by_post.setdefault(post_id, []).append((state, error))
    decided = {pid: d for pid, rows in by_post.items() if (d := _decide_post_state(rows)) is not None}
    if not decided:
        return []
    now = timezone.now()
    changed: list[int] = []
    rows_to_audit = []
    with transaction.atomic():
        live = list(Post.objects.select_for_update().filter(pk__in=list(decided)).exclude(
            state__in=TERMINAL_STATES).order_by("pk").values_list("pk", "state"))
        published = [pid for pid, _ in live if decided[pid][0] == PostState.PUBLISHED]
        if published:  # one statement for the common case
            Post.objects.filter(pk__in=published).update(state=PostState.PUBLISHED, updated_at=now, published_at=now,
                                                         last_error="")
        for pid, before in live:
            new, fields = decided[pid]
            if new == PostState.PUBLISHED:
                fields = {**fields, "published_at": now}
            else:
                Post.objects.filter(pk=pid).update(state=new, updated_at=now, **fields)
            post = posts[pid]
            post.state = new
            for name, value in fields.items():
                setattr(post, name, value)
            rows_to_audit.append(audit.build_record(
                actor=SYSTEM, action=f"publishing.post.{new}", obj=post,
                summary=f"{post.get_state_display()}: {post.last_error}"[:300], changes={"state": [before, new]}))
            changed.append(pid)
        audit.record_many(rows_to_audit)
    return changed


def _decide_post_state(rows: Sequence[tuple[str, str]]) -> tuple[str, dict] | None:
    states = [s for s, _ in rows]
    if states and all(s == VariantState.SENT for s in states):
        return PostState.PUBLISHED, {"published_at": timezone.now(), "last_error": ""}
    if states and not any(s in (VariantState.PENDING, VariantState.SENDING) for s in states) and any(
            s == VariantState.FAILED for s in states):
        return PostState.FAILED, {"last_error": "; ".join(e for s, e in rows if s == VariantState.FAILED)[:500]}
    return None


def refresh_post_state(post_id: int, *, post: Post | None = None) -> str | None:
    """The post's state from its variants': all sent → published; none left to send and one failed → failed.
    A conditional UPDATE (never over a terminal state), so two workers finishing a post's variants at once
    write it, and its audit row, once. Returns the new state when it changed."""
    rows = list(PostVariant.objects.filter(post_id=post_id).values_list("state", "last_error"))
    states = [s for s, _ in rows]
    now = timezone.now()
    if states and all(s == VariantState.SENT for s in states):
        new, fields = PostState.PUBLISHED, {"published_at": now, "last_error": ""}
    elif states and not any(s in (VariantState.PENDING, VariantState.SENDING) for s in states) and any(
            s == VariantState.FAILED for s in states):
        error = "; ".join(e for s, e in rows if s == VariantState.FAILED)[:500]
        new, fields = PostState.FAILED, {"last_error": error}
    else:
        return None
    with transaction.atomic():
        changed = Post.objects.filter(pk=post_id).exclude(state__in=TERMINAL_STATES).update(
            state=new, updated_at=now, **fields)
        if changed:
            post = post or Post.objects.select_related("unit").get(pk=post_id)
            before = post.state
            post.state = new
            for name, value in fields.items():
                setattr(post, name, value)
            audit.record(actor=SYSTEM, action=f"publishing.post.{new}", obj=post,
                         summary=f"{post.get_state_display()}: {post.last_error}"[:300],
                         changes={"state": [before, new]})
    return new if changed else None


def claim_lease() -> dt.timedelta:
    """How long a claim holds before it is taken for a dead worker's (``DANDELION_PUBLISH_CLAIM_LEASE_S``)."""
    from django.conf import settings

    seconds = getattr(settings, "DANDELION_PUBLISH_CLAIM_LEASE_S", None)
    return dt.timedelta(seconds=int(seconds)) if seconds else CLAIM_LEASE


def recover_stale_claims(*, now: dt.datetime | None = None, lease: dt.timedelta | None = None) -> int:
    """Variants claimed by a worker that died mid-send go back to pending (their idempotency key makes the retry
    safe: the network answers with the post already made)."""
    now = now or timezone.now()
    lease = lease or claim_lease()
    return PostVariant.objects.filter(state=VariantState.SENDING, claimed_at__lt=now - lease).update(
        state=VariantState.PENDING, due_at=now, claimed_by="")


def send_due(*, now: dt.datetime | None = None, limit: int = 100, worker: str = "",
             on_full_claim=None) -> dict[str, int]:
    """One pass of the send job: recover stale claims, claim what is due, send each. ``on_full_claim`` is called
    right after a claim of ``limit`` variants, before sending them (the job enqueues its next run there, so another
    worker claims the next batch while this one sends)."""
    counts = {"recovered": recover_stale_claims(now=now), "claimed": 0}
    ids = claim_due(now=now, limit=limit, worker=worker)
    counts["claimed"] = len(ids)
    if on_full_claim is not None and len(ids) >= limit:
        on_full_claim()
    counts.update(send_claimed(ids, worker=worker) if ids else {"sent": 0, "failed": 0, "retry": 0})
    return counts


# --- rules and workflows ----------------------------------------------------------------------------------------------

_LIST_PARAMS = {RuleKind.BANNED_TERMS: "terms", RuleKind.SENSITIVE_TERMS: "terms",
                RuleKind.REQUIRED_DISCLOSURE: "terms", RuleKind.ALLOWED_LINK_DOMAINS: "domains"}


def clean_rule_params(kind: str, params: Any) -> dict:
    if kind not in RuleKind.values:
        raise InvalidRule(_("Unknown rule kind %(kind)r.") % {"kind": kind}, field="kind")
    params = dict(params or {})
    key = _LIST_PARAMS.get(RuleKind(kind))
    if key:
        values = params.get(key)
        if isinstance(values, str):
            values = [v.strip() for v in values.replace("\n", ",").split(",")]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidRule(_("'%(key)s' must be a list of strings.") % {"key": key}, field="params")
        values = [v.strip() for v in values if v.strip()][:500]
        if not values:
            raise InvalidRule(_("Give at least one value in '%(key)s'.") % {"key": key}, field="params")
        return {key: values}
    if kind in (RuleKind.MAX_HASHTAGS, RuleKind.MAX_MENTIONS):
        try:
            most = int(params.get("max"))
        except (TypeError, ValueError):
            raise InvalidRule(_("'max' must be a whole number."), field="params") from None
        if not 0 <= most <= 100:
            raise InvalidRule(_("'max' must be between 0 and 100."), field="params")
        return {"max": most}
    return {}


@transaction.atomic
def create_rule(*, actor, unit, name: str, kind: str, severity: str = Severity.BLOCK, params=None,
                message: str = "", guideline=None, is_active: bool = True) -> GuidelineRule:
    require_perm(actor, "publishing.add_guidelinerule", unit)
    if severity not in Severity.values:
        raise InvalidRule(_("Unknown severity %(severity)r.") % {"severity": severity}, field="severity")
    if not (name or "").strip():
        raise InvalidRule(_("Name the rule."), field="name")
    rule = GuidelineRule.objects.create(unit=unit, name=name.strip()[:200], kind=kind, severity=severity,
                                        params=clean_rule_params(kind, params), message=(message or "")[:300],
                                        guideline=guideline, is_active=is_active)
    audit.record(actor=actor, action="publishing.rule.create", obj=rule, summary=f"Created rule {rule}",
                 changes=audit.diff({}, audit.snapshot(rule)))
    return rule


@transaction.atomic
def update_rule(rule: GuidelineRule, *, actor, **changes) -> GuidelineRule:
    require_perm(actor, PERM_RULE, rule.unit)
    before = audit.snapshot(rule)
    for name in ("name", "severity", "message", "is_active", "guideline", "kind"):
        if name in changes:
            setattr(rule, name, changes[name])
    if "unit" in changes and changes["unit"] != rule.unit:
        require_perm(actor, "publishing.add_guidelinerule", changes["unit"])
        rule.unit = changes["unit"]
    if rule.severity not in Severity.values:
        raise InvalidRule(_("Unknown severity %(severity)r.") % {"severity": rule.severity}, field="severity")
    rule.params = clean_rule_params(rule.kind, changes.get("params", rule.params))
    rule.save()
    diff = audit.diff(before, audit.snapshot(rule))
    if diff:
        audit.record(actor=actor, action="publishing.rule.update", obj=rule, summary=f"Updated rule {rule}",
                     changes=diff)
    return rule


@transaction.atomic
def delete_rule(rule: GuidelineRule, *, actor) -> None:
    require_perm(actor, "publishing.delete_guidelinerule", rule.unit)
    audit.record(actor=actor, action="publishing.rule.delete", obj=rule, summary=f"Deleted rule {rule}")
    rule.delete()


def _clean_steps(steps) -> list[dict]:
    from dandelion.orgs.choices import Role

    if not steps:
        raise InvalidRule(_("A workflow needs at least one step."), field="steps")
    out = []
    for i, step in enumerate(steps, start=1):
        role, mode = step.get("role"), step.get("mode", StepMode.ANY)
        if role not in Role.values:
            raise InvalidRule(_("Step %(i)s: unknown role %(role)r.") % {"i": i, "role": role}, field="steps")
        if mode not in StepMode.values:
            raise InvalidRule(_("Step %(i)s: mode must be 'any' or 'all'.") % {"i": i}, field="steps")
        out.append({"order": i, "name": (step.get("name") or f"Step {i}")[:200], "role": role, "mode": mode})
    return out


@transaction.atomic
def create_workflow(*, actor, unit, name: str, steps: Sequence[Mapping], is_active: bool = True) -> Workflow:
    require_perm(actor, "publishing.add_workflow", unit)
    if not (name or "").strip():
        raise InvalidRule(_("Name the workflow."), field="name")
    clean = _clean_steps(steps)
    workflow = Workflow.objects.create(unit=unit, name=name.strip()[:200], is_active=is_active)
    WorkflowStep.objects.bulk_create([WorkflowStep(workflow=workflow, **s) for s in clean])
    audit.record(actor=actor, action="publishing.workflow.create", obj=workflow,
                 summary=f"Created workflow {workflow} ({len(clean)} steps)", changes={"steps": [None, clean]})
    return workflow


@transaction.atomic
def update_workflow(workflow: Workflow, *, actor, name: str | None = None, steps=None,
                    is_active: bool | None = None, unit=None) -> Workflow:
    require_perm(actor, PERM_WORKFLOW, workflow.unit)
    before = {"name": workflow.name, "is_active": workflow.is_active,
              "steps": list(workflow.steps.values("order", "name", "role", "mode"))}
    if unit is not None and unit != workflow.unit:
        require_perm(actor, "publishing.add_workflow", unit)
        workflow.unit = unit
    if name is not None:
        workflow.name = name.strip()[:200] or workflow.name
    if is_active is not None:
        workflow.is_active = is_active
    workflow.save()
    if steps is not None:
        clean = _clean_steps(steps)
        workflow.steps.all().delete()
        WorkflowStep.objects.bulk_create([WorkflowStep(workflow=workflow, **s) for s in clean])
    after = {"name": workflow.name, "is_active": workflow.is_active,
             "steps": list(workflow.steps.values("order", "name", "role", "mode"))}
    diff = audit.diff(before, after)
    if diff:
        audit.record(actor=actor, action="publishing.workflow.update", obj=workflow,
                     summary=f"Updated workflow {workflow}", changes=diff)
    return workflow


@transaction.atomic
def delete_workflow(workflow: Workflow, *, actor) -> None:
    require_perm(actor, "publishing.delete_workflow", workflow.unit)
    audit.record(actor=actor, action="publishing.workflow.delete", obj=workflow,
                 summary=f"Deleted workflow {workflow}")
    workflow.delete()


# --- links and the queue: a unit's publishing settings ------------------------------------------------------------

PERM_SETTINGS = "publishing.change_publishingsettings"


@transaction.atomic
def update_settings(unit, *, actor, utm=None, shorten_links: bool | None = None, slots=None,
                    timezone_name: str | None = None, short_link_base: str | None = None) -> PublishingSettings:
    """Set ``unit``'s UTM parameters, link shortening (and the short links' base address), posting slots and
    slot time zone (its subtree inherits them). ``InvalidRule`` names the field that is wrong; nothing is saved
    then."""
    require_perm(actor, PERM_SETTINGS, unit)
    if short_link_base is not None:
        short_link_base = links.clean_base(short_link_base)
    conf, _created = PublishingSettings.objects.select_for_update().get_or_create(unit=unit)
    before = {"utm": conf.utm, "shorten_links": conf.shorten_links, "slots": conf.slots, "timezone": conf.timezone,
              "short_link_base": conf.short_link_base}
    if short_link_base is not None:
        conf.short_link_base = short_link_base
    try:
        if utm is not None:
            conf.utm = links.clean_utm(utm)
    except ValueError as exc:
        raise InvalidRule(str(exc), field="utm") from None
    try:
        if slots is not None:
            conf.slots = slot_rules.clean_slots(slots)
    except ValueError as exc:
        raise InvalidRule(str(exc), field="slots") from None
    if timezone_name is not None:
        if timezone_name:
            try:
                ZoneInfo(timezone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidRule(_("Unknown time zone %(timezone_name)r.") % {"timezone_name": timezone_name[:64]}, field="timezone") from None
        conf.timezone = timezone_name[:64]
    if shorten_links is not None:
        conf.shorten_links = bool(shorten_links)
    conf.save()
    after = {"utm": conf.utm, "shorten_links": conf.shorten_links, "slots": conf.slots, "timezone": conf.timezone,
             "short_link_base": conf.short_link_base}
    audit.record(actor=actor, action="publishing.settings.update", obj=conf, summary=f"Publishing settings of {unit}",
                 changes=audit.diff(before, after))
    return conf


#: States a post may be queued from: a draft gets the slot as its time, an approved one is scheduled into it.
QUEUEABLE_STATES = frozenset({PostState.DRAFT, PostState.APPROVED, PostState.SCHEDULED, PostState.PAUSED})


@transaction.atomic
def queue_post(post: Post, *, actor, now: dt.datetime | None = None) -> Post:
    """"Add to queue": give the post the next free posting slot of its unit (the settings' slots, in their zone;
    free: no other live post of the unit at that minute), within its campaign's window. An approved post is
    scheduled there (``schedule_post``), a draft gets the time (``update_post``). Queueing is serialised per
    settings row, so two posts never take the same slot."""
    require_perm(actor, PERM_CHANGE, post.unit)
    require_enabled(actor, post.unit)
    if post.state not in QUEUEABLE_STATES:
        raise InvalidTransition(_("A %(state)s post cannot be queued.") % {"state": post.get_state_display().lower()})
    conf = links.settings_for(post.unit)
    if conf is None or not conf.slots:
        raise InvalidPost(_("No posting slots are set for this unit: ask an admin to set them."), field="slots")
    conf = PublishingSettings.objects.select_for_update().select_related("unit").get(pk=conf.pk)
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=slot_rules.HORIZON_DAYS + 2)
    taken = (Post.objects.filter(unit=post.unit, scheduled_at__gte=now, scheduled_at__lte=horizon)
             .exclude(pk=post.pk).exclude(state__in=[PostState.CANCELLED, PostState.FAILED])
             .values_list("scheduled_at", flat=True))
    campaign = post.campaign if post.campaign_id else None
    zone = conf.timezone or post.unit.timezone or "UTC"  # the slots are wall-clock times of the post's unit
    when = slot_rules.next_free_slot(conf.slots, zone, now, list(taken),
                                     not_before=campaign.starts_at if campaign else None,
                                     not_after=campaign.ends_at if campaign else None)
    if when is None:
        raise InvalidPost(_("No free posting slot in the next eight weeks (or in the campaign's window)."),
                          field="slots")
    local = when.astimezone(ZoneInfo(post.schedule_timezone or "UTC")).replace(tzinfo=None)
    if post.state == PostState.DRAFT:
        return update_post(post, actor=actor, scheduled_local=local)
    return schedule_post(post, actor=actor, scheduled_local=local)


def post_clicks(post: Post) -> list[ShortLink]:
    """The post's short links with their clicks (for the post's page and API)."""
    return list(post.short_links.select_related("variant__account").order_by("variant_id", "id"))


def follow_short_link(code: str, *, count: bool = True, now: dt.datetime | None = None,
                      user_agent: str | None = None, client: str | None = None) -> str | None:
    """The target of the short link ``code`` (None: no such link), its click counted with a conditional UPDATE
    (race-free under concurrent clicks) unless it is not a reader's (``clicks.py``: ``count`` false for a HEAD, a
    bot or preview fetcher's ``user_agent``, or a ``client`` already counted within the window). A click is
    anonymous and writes no audit row (it is a reader's visit, not an action of the organisation's people).
    ``user_agent`` None: the caller vouches for a reader (no filtering)."""
    from dandelion.publishing import clicks

    if not code or len(code) > 16:
        return None
    row = ShortLink.objects.filter(code=code).values_list("pk", "target_url").first()
    if row is None:
        return None
    link_id, target = row
    now = now or timezone.now()
    if count and user_agent is not None and clicks.is_bot(user_agent):
        count = False
    if count and client and not clicks.first_in_window(link_id, client, now):
        count = False
    if count:
        ShortLink.objects.filter(pk=link_id).update(clicks=F("clicks") + 1, last_click_at=now)
    return target


def post_conversations(post: Post, user, *, limit: int = 20) -> list:
    """The inbox conversations the viewer may see that answer the published post. A sent variant is stored in
    the inbox as the brand's own post (:func:`record_in_inbox`), the root its comments thread under: its
    conversation is found by the (external id, account) key, the messages' unique key: no scan of ``in_reply_to``
    (which has no index). Conversations holding only the brand's post (no comment yet) are not listed."""
    from django.db.models import Q

    from dandelion.inbox.models import Conversation, Message

    sent = [(v.account_id, v.external_id) for v in post.variants.all() if v.external_id]
    if not sent:
        return []
    match = Q()
    for account_id, external_id in sent:
        match |= Q(account_id=account_id, external_id=external_id)
    ids = Message.objects.filter(match).order_by().values("conversation_id")
    return list(Conversation.objects.restrict(user, "view").filter(pk__in=ids, first_inbound_at__isnull=False)
                .select_related("account", "contact").order_by("-last_activity_at")[:limit])
