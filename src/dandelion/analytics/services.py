"""Every write of the analytics app: rebuilding rollup days (derived data) and the success stories' lifecycle.

A day's rebuild is exact: delete and recompute the whole day in one transaction, from the raw inbox rows read
through ``inbox.metrics``' rollup feed. Running it twice changes nothing; killing it mid-way leaves the previous
figures (the transaction rolls back)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.analytics import reports
from dandelion.analytics.choices import BlockGrain, DigestStatus, StoryStatus, StoryTheme
from dandelion.analytics.exceptions import BadPeriod, StoryStateError
from dandelion.analytics.models import DailyRollup, DigestDelivery, RollupBlock, RollupVersion, SuccessStory
from dandelion.analytics.rollup import (
    COUNTERS,
    HISTOGRAMS,
    SOCIAL,
    Cell,
    ConversationRecord,
    InboundRecord,
    SlaRecord,
    SocialRecord,
    merge_cells,
    roll_up,
)
from dandelion.core import audit
from dandelion.core.permissions import require_perm

logger = logging.getLogger(__name__)

PERM_REBUILD = "analytics.rebuild_rollups"  # a named capability: the hub admin's "*" and SYSTEM only
PERM_ADD_STORY = "analytics.add_successstory"
PERM_CHANGE_STORY = "analytics.change_successstory"
PERM_SUBMIT_STORY = "analytics.submit_successstory"
PERM_FEATURE_STORY = "analytics.feature_successstory"

#: How far back the periodic job recomputes (late replies, late SLA outcomes, reassigned teams).
RECENT_DAYS = 3
MAX_BACKFILL_DAYS = 3660


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def compute_day(day: dt.date) -> dict[tuple, Cell]:
    """The cells of ``day`` from the raw rows (no write)."""
    from dandelion.inbox.metrics import conversations_for_rollup, inbound_for_rollup
    from dandelion.routing.choices import SlaStatus
    from dandelion.routing.models import AppliedSla

    start, end = day_bounds(day)
    inbound = (InboundRecord(account_id=a, team_id=t, language=lang or "", sent_at=sent, needs_reply=nr,
                             visible=state == "visible", replied=rep, spam=spam, abuse=abuse,
                             sentiment=sentiment or "")
               for a, t, lang, sent, nr, state, rep, spam, abuse, sentiment
               in inbound_for_rollup(start, end).iterator(chunk_size=5000))
    conversations = (ConversationRecord(account_id=a, team_id=t, language=lang or "", first_inbound_at=first_in,
                                        first_response_at=first_out, resolved_at=resolved)
                     for a, t, lang, first_in, first_out, resolved
                     in conversations_for_rollup(start, end).iterator(chunk_size=5000))
    slas = (SlaRecord(account_id=a, team_id=t, language=lang or "", started_at=started, met=status == SlaStatus.HIT)
            for a, t, lang, started, status in
            AppliedSla.objects.filter(started_at__gte=start, started_at__lt=end,
                                      status__in=[SlaStatus.HIT, SlaStatus.MISSED]).order_by()
            .values_list("conversation__account_id", "conversation__team_id", "conversation__language",
                         "started_at", "status").iterator(chunk_size=5000))
    return roll_up(inbound, conversations, slas, social_for_day(day))


def social_for_day(day: dt.date) -> list[SocialRecord]:
    """Each account's publishing and network figures of ``day`` (``rollup.SocialRecord``), from the raw rows:

    * posts: variants sent that day (UTC), and the clicks on their short links (running totals, credited to the
      post's day, as the publishing section does);
    * engagement: for each post read that day (``PostEngagementDay``), its figures minus its previous reading's
      (a post's first reading counts whole: what it gathered before is credited to the day it was first read);
    * followers gained: the account's follower count read that day minus its previous reading (none before: 0,
      there is no baseline to rise from). A figure the network does not report counts 0 here.
    Sums over days are exact: a post's engagement over every day adds up to its latest reading."""
    from django.db.models import Count, Sum

    from dandelion.analytics.models import AccountMetricsDay, PostEngagementDay
    from dandelion.publishing.choices import VariantState
    from dandelion.publishing.models import PostVariant, ShortLink

    start, end = day_bounds(day)
    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SOCIAL, 0))
    sent = PostVariant.objects.filter(state=VariantState.SENT, sent_at__gte=start, sent_at__lt=end).order_by()
    for row in sent.values("account_id").annotate(n=Count("pk")):
        figures[row["account_id"]]["posts"] += row["n"]
    for row in (ShortLink.objects.filter(variant__in=sent).order_by().values("variant__account_id")
                .annotate(n=Sum("clicks"))):
        figures[row["variant__account_id"]]["link_clicks"] += row["n"] or 0
    names = ("likes", "replies", "reposts", "quotes")
    today = list(PostEngagementDay.objects.filter(day=day).order_by().values("variant_id", "account_id", *names))
    previous: dict[int, dict] = {}
    for row in (PostEngagementDay.objects.filter(variant_id__in=[r["variant_id"] for r in today], day__lt=day)
                .order_by("variant_id", "-day").values("variant_id", *names)):
        previous.setdefault(row["variant_id"], row)
    for row in today:
        before = previous.get(row["variant_id"], {})
        for name in names:
            figures[row["account_id"]][name] += (row[name] or 0) - (before.get(name) or 0)
    counts = list(AccountMetricsDay.objects.filter(day=day, followers__isnull=False).order_by()
                  .values("account_id", "followers"))
    earlier: dict[int, int] = {}
    for row in (AccountMetricsDay.objects.filter(account_id__in=[r["account_id"] for r in counts], day__lt=day,
                                                 followers__isnull=False)
                .order_by("account_id", "-day").values("account_id", "followers")):
        earlier.setdefault(row["account_id"], row["followers"])
    for row in counts:
        if row["account_id"] in earlier:
            figures[row["account_id"]]["followers_gained"] += row["followers"] - earlier[row["account_id"]]
    return [SocialRecord(account_id=pk, **f) for pk, f in figures.items() if any(f.values())]


def write_day(day: dt.date, cells: dict[tuple, Cell]) -> int:
    """Replace ``day``'s rows by ``cells`` in one transaction, with the pre-merged blocks derived from them (the
    day's unit and account rows, and the account rows of its ISO week). Returns the number of fine rows written."""
    from dandelion.assets.models import SocialAccount

    accounts = {pk: (unit, network, path) for pk, unit, network, path in SocialAccount.objects.filter(
        pk__in={key[0] for key in cells}).values_list("pk", "owner_unit_id", "network", "owner_unit__path")}
    now = timezone.now()
    rows = [DailyRollup(day=day, account_id=account_id, team_id=team_id, language=language,
                        unit_id=accounts[account_id][0], network=accounts[account_id][1], computed_at=now,
                        **cell.as_dict())
            for (account_id, team_id, language), cell in cells.items() if account_id in accounts]
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=1000)
        write_blocks(day, cells, accounts)
        bump_rollup_version()
    return len(rows)


def bump_rollup_version() -> None:
    """Make every cached merged period stale (``reports.merged_dashboard``): called in the transaction that
    rewrites a day, so the new version and the new rows commit together."""
    if not RollupVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now()):
        try:
            with transaction.atomic():
                RollupVersion.objects.create(pk=1, version=1)
        except IntegrityError:  # created by a concurrent writer: bump it
            RollupVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now())


def write_blocks(day: dt.date, cells: dict[tuple, Cell], accounts: dict[int, tuple[int, str, str]]) -> None:
    """The pre-merged levels of ``day`` (``RollupBlock``), from the same cells as its fine rows; then the week's
    account rows, from the week's day rows. Called inside ``write_day``'s transaction."""
    per_account: dict[int, list[Cell]] = defaultdict(list)
    for (account_id, _team, _language), cell in cells.items():
        if account_id in accounts:
            per_account[account_id].append(cell)
    per_unit: dict[tuple[int, str], list[Cell]] = defaultdict(list)
    blocks = []
    for account_id, group in per_account.items():
        unit_id, network, path = accounts[account_id]
        merged = merge_cells(group)
        blocks.append(RollupBlock(grain=BlockGrain.DAY, start=day, unit_id=unit_id, account_id=account_id,
                                  network=network, **merged.as_dict()))
        for ancestor in (int(p) for p in path.strip("/").split("/") if p):
            per_unit[(ancestor, network)].append(merged)
            per_unit[(ancestor, "")].append(merged)
    blocks += [RollupBlock(grain=BlockGrain.DAY, start=day, unit_id=unit_id, network=network,
                           **merge_cells(group).as_dict())
               for (unit_id, network), group in per_unit.items()]
    RollupBlock.objects.filter(grain=BlockGrain.DAY, start=day).delete()
    RollupBlock.objects.bulk_create(blocks, batch_size=1000)
    monday = day - dt.timedelta(days=day.weekday())
    week_rows: dict[int, list[dict]] = defaultdict(list)
    for row in (RollupBlock.objects.filter(grain=BlockGrain.DAY, start__gte=monday,
                                           start__lt=monday + dt.timedelta(days=7), account__isnull=False)
                .order_by("start").values("unit_id", "account_id", "network", *COUNTERS, *HISTOGRAMS)):
        week_rows[row["account_id"]].append(row)
    RollupBlock.objects.filter(grain=BlockGrain.WEEK, start=monday).delete()
    RollupBlock.objects.bulk_create([
        RollupBlock(grain=BlockGrain.WEEK, start=monday, unit_id=group[-1]["unit_id"], account_id=account_id,
                    network=group[-1]["network"], **merge_cells(group).as_dict())
        for account_id, group in week_rows.items()], batch_size=1000)


def rebuild_day(day: dt.date, *, actor) -> int:
    """Recompute ``day`` exactly (delete + insert in one transaction). Returns the number of rows."""
    require_perm(actor, PERM_REBUILD)
    return write_day(day, compute_day(day))


def rebuild_days(start: dt.date, end: dt.date, *, actor, progress: Callable[[dt.date, int], None] | None = None,
                 audited: bool = True) -> int:
    """Recompute every day of ``[start, end]`` (each in its own transaction: a stopped backfill keeps the days
    done, and running it again redoes them all identically). One audit row for the run unless ``audited`` is
    False (the periodic refresh of recent days, which would write one every hour)."""
    require_perm(actor, PERM_REBUILD)
    if end < start:
        raise BadPeriod(_("The end date is before the start date."), field="end")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise BadPeriod(_("At most %(n)d days at once.") % {"n": MAX_BACKFILL_DAYS})
    total = 0
    day = start
    while day <= end:
        rows = write_day(day, compute_day(day))
        total += rows
        if progress is not None:
            progress(day, rows)
        day += dt.timedelta(days=1)
    if audited:
        audit.record(actor=actor, action="analytics.rebuild", obj=None,
                     summary=f"Rebuilt analytics rollups from {start} to {end} ({total} rows)",
                     changes={"start": str(start), "end": str(end), "rows": total})
    return total


def refresh_recent_days(*, actor, days: int = RECENT_DAYS, today: dt.date | None = None) -> int:
    """Recompute today and the ``days`` before it: late replies and SLA outcomes change recent days."""
    today = today or timezone.now().date()
    return rebuild_days(today - dt.timedelta(days=days), today, actor=actor, audited=False)


# ---- success stories ----

def _clean_windows(before: tuple[dt.date, dt.date] | None, after: tuple[dt.date, dt.date] | None) -> None:
    for name, window in (("before", before), ("after", after)):
        if window is not None and window[1] < window[0]:
            raise BadPeriod(_("The %(name)s window ends before it starts.") % {"name": name}, field=f"{name}_end")


def snapshot_for(*, unit, account, before: tuple[dt.date, dt.date], after: tuple[dt.date, dt.date]) -> dict:
    """The figures of ``account`` (or of ``unit``'s subtree when no account) over both windows, from the rollups
    (unrestricted: the story's author may see the unit; the snapshot is what the unit did)."""
    qs = DailyRollup.objects.all()
    qs = qs.filter(account=account) if account is not None else qs.filter(unit__path__startswith=unit.path)
    return {
        "scope": {"unit": unit.name, "account": str(account) if account else None},
        "before": {"start": str(before[0]), "end": str(before[1]),
                   **reports.summary(reports.fetch(qs, before[0], before[1]))},
        "after": {"start": str(after[0]), "end": str(after[1]),
                  **reports.summary(reports.fetch(qs, after[0], after[1]))},
    }


def _apply_snapshot(story: SuccessStory) -> None:
    if story.before_start and story.before_end and story.after_start and story.after_end:
        story.snapshot = snapshot_for(unit=story.unit, account=story.account,
                                      before=(story.before_start, story.before_end),
                                      after=(story.after_start, story.after_end))
        story.snapshot_at = timezone.now()
    else:
        story.snapshot, story.snapshot_at = {}, None


def _check_account(unit, account) -> None:
    if account is not None and not account.owner_unit.path.startswith(unit.path):
        raise BadPeriod(_("The account does not belong to this unit."), field="account")


@transaction.atomic
def create_story(*, actor, unit, title: str, body: str, theme: str = StoryTheme.OTHER, account=None,
                 before_start=None, before_end=None, after_start=None, after_end=None) -> SuccessStory:
    """A draft story of ``unit``; the before/after snapshot is frozen now when both windows are given."""
    require_perm(actor, PERM_ADD_STORY, unit)
    _check_account(unit, account)
    _clean_windows((before_start, before_end) if before_start and before_end else None,
                   (after_start, after_end) if after_start and after_end else None)
    story = SuccessStory(unit=unit, account=account, title=title, body=body, theme=theme,
                         before_start=before_start, before_end=before_end, after_start=after_start,
                         after_end=after_end, author=actor if getattr(actor, "pk", None) else None)
    _apply_snapshot(story)
    story.save()
    audit.record(actor=actor, action="analytics.story_create", obj=story, summary=f"Drafted story {title!r}")
    return story


@transaction.atomic
def update_story(story: SuccessStory, *, actor, **changes) -> SuccessStory:
    """Edit a draft or submitted story (a featured one is frozen); changed windows re-freeze the snapshot."""
    require_perm(actor, PERM_CHANGE_STORY, story.unit)
    story = SuccessStory.objects.select_for_update().get(pk=story.pk)
    if story.status == StoryStatus.FEATURED:
        raise StoryStateError(_("A featured story can no longer be edited."))
    allowed = {"title", "body", "theme", "account", "before_start", "before_end", "after_start", "after_end"}
    changed = {k: v for k, v in changes.items() if k in allowed and getattr(story, k) != v}
    for key, value in changed.items():
        setattr(story, key, value)
    _check_account(story.unit, story.account)
    _clean_windows((story.before_start, story.before_end) if story.before_start and story.before_end else None,
                   (story.after_start, story.after_end) if story.after_start and story.after_end else None)
    if changed.keys() & {"account", "before_start", "before_end", "after_start", "after_end"}:
        _apply_snapshot(story)
    story.save()
    audit.record(actor=actor, action="analytics.story_update", obj=story, summary=f"Edited story {story.title!r}",
                 changes={k: str(v) for k, v in changed.items() if k != "body"})
    return story


@transaction.atomic
def submit_story(story: SuccessStory, *, actor) -> SuccessStory:
    """Send a draft to the hub. It needs its figures: a story without a snapshot cannot be submitted."""
    require_perm(actor, PERM_SUBMIT_STORY, story.unit)
    story = SuccessStory.objects.select_for_update().get(pk=story.pk)
    if story.status != StoryStatus.DRAFT:
        raise StoryStateError(_("Only a draft can be submitted."))
    if not story.snapshot:
        raise BadPeriod(_("Attach the before and after windows first: the story needs its figures."),
                        field="before_start")
    story.status, story.submitted_at = StoryStatus.SUBMITTED, timezone.now()
    story.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor=actor, action="analytics.story_submit", obj=story, summary=f"Submitted story {story.title!r}")
    return story


@transaction.atomic
def feature_story(story: SuccessStory, *, actor) -> SuccessStory:
    """The hub features a submitted story: every spoke can then read it."""
    from dandelion.core.plugins import org_tree

    require_perm(actor, PERM_FEATURE_STORY, org_tree().root_unit())
    story = SuccessStory.objects.select_for_update().get(pk=story.pk)
    if story.status != StoryStatus.SUBMITTED:
        raise StoryStateError(_("Only a submitted story can be featured."))
    story.status, story.featured_at = StoryStatus.FEATURED, timezone.now()
    story.featured_by = actor if getattr(actor, "pk", None) else None
    story.save(update_fields=["status", "featured_at", "featured_by", "updated_at"])
    audit.record(actor=actor, action="analytics.story_feature", obj=story, summary=f"Featured story {story.title!r}")
    return story


# ---- the weekly digest ----

PERM_SEND_DIGESTS = "analytics.send_digests"  # a named capability: SYSTEM (the job) and the hub admin's "*"
DIGEST_LEASE = dt.timedelta(minutes=15)
DIGEST_MAX_ATTEMPTS = 3


def plan_weekly_digests(*, actor, week_start: dt.date) -> int:
    """One pending delivery per (person, unit) for the week starting ``week_start``: every active member with an
    e-mail address holding a digest role (``digest.DIGEST_ROLES``) on a unit. Planning twice adds nothing (the
    rows are unique). Returns the number of rows added."""
    from dandelion.analytics.digest import DIGEST_ROLES
    from dandelion.orgs.models import Membership

    require_perm(actor, PERM_SEND_DIGESTS)
    pairs = set(Membership.objects.filter(role__in=DIGEST_ROLES, is_active=True, user__is_active=True)
                .exclude(user__email="").values_list("user_id", "unit_id"))
    before = DigestDelivery.objects.filter(week_start=week_start).count()
    DigestDelivery.objects.bulk_create([DigestDelivery(user_id=u, unit_id=unit, week_start=week_start)
                                        for u, unit in sorted(pairs)], ignore_conflicts=True)
    return DigestDelivery.objects.filter(week_start=week_start).count() - before


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Claim one delivery (conditional UPDATE): not sent, under the attempt limit, and unclaimed or its claim's
    lease expired (a run killed mid-way)."""
    from django.db.models import F, Q

    return bool(DigestDelivery.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - DIGEST_LEASE), pk=delivery_id,
        status__in=[DigestStatus.PENDING, DigestStatus.FAILED], attempts__lt=DIGEST_MAX_ATTEMPTS,
    ).update(claimed_at=now, attempts=F("attempts") + 1))


def send_weekly_digests(*, actor, today: dt.date | None = None) -> dict:
    """Plan and send last week's digests (``digest.last_week``). Idempotent: a delivery is claimed before its
    e-mail leaves and marked sent after, so running twice (or in two workers) sends each digest once; a failed
    send is recorded and retried by later runs, at most ``DIGEST_MAX_ATTEMPTS`` times; a person who may no longer
    read the unit's analytics gets nothing. One audit row per run that sent or failed something."""
    from dandelion.analytics import digest
    from dandelion.analytics.filters import PERM_VIEW
    from dandelion.core.permissions import clear_grant_cache, has_perm

    require_perm(actor, PERM_SEND_DIGESTS)
    week = digest.last_week(today or timezone.now().date())
    planned = plan_weekly_digests(actor=actor, week_start=week.start)
    counts = {"planned": planned, "sent": 0, "failed": 0, "skipped": 0}
    todo = DigestDelivery.objects.filter(week_start=week.start, status__in=[DigestStatus.PENDING,
                                                                          DigestStatus.FAILED],
                                         attempts__lt=DIGEST_MAX_ATTEMPTS).select_related("user", "unit")
    for delivery in todo:
        now = timezone.now()
        if not _claim(delivery.pk, now):
            continue  # another worker has it, or its lease has not expired
        user, unit = delivery.user, delivery.unit
        clear_grant_cache(user)
        if not user.is_active or not user.email or not has_perm(user, PERM_VIEW, unit):
            DigestDelivery.objects.filter(pk=delivery.pk).update(
                status=DigestStatus.FAILED, attempts=DIGEST_MAX_ATTEMPTS, claimed_at=None,
                error="The person may no longer read this unit's analytics.")
            counts["skipped"] += 1
            continue
        try:
            digest.send(digest.build(user, unit, week), user.email)
        except Exception as exc:  # SMTP refusal, DNS, timeout (logged): one digest fails alone, retried
            logger.exception("weekly digest %s to %s failed", delivery.pk, user.email)
            DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestStatus.FAILED, claimed_at=None,
                                                                 error=str(exc)[:300])
            counts["failed"] += 1
            continue
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestStatus.SENT, sent_at=timezone.now(),
                                                             error="")
        counts["sent"] += 1
    if counts["sent"] or counts["failed"]:
        audit.record(actor=actor, action="analytics.digest_send", obj=None,
                     summary=f"Weekly digests of {week.start}: {counts['sent']} sent, {counts['failed']} failed",
                     changes={"week_start": str(week.start), **counts})
    return counts


# ---- network metrics: followers per account per day, engagement per published post per day ----

#: posts whose engagement is read again: those sent within the last ENGAGEMENT_DAYS days
ENGAGEMENT_DAYS = 30
#: the most post ids asked of a connector at once
ENGAGEMENT_BATCH = 100


def _count(value) -> int | None:
    """A count from a connector: a non-negative int within what the database stores, else None (not reported)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**62 else None


def collect_network_metrics(*, actor, today: dt.date | None = None) -> dict:
    """Read every active account's audience figures and its recent posts' engagement through the connector the
    registry names for it (accounts whose connector lacks the ``metrics`` capability are skipped; post
    engagement only where the connector also implements ``PostMetricsConnector``), and store them: one
    ``AccountMetricsDay`` per account per day and one ``PostEngagementDay`` per post per day, overwritten by a
    later read of the same day (idempotent: running it twice leaves one row each). A connector error fails that
    account alone (counted, logged). One audit row per run that stored something or failed."""
    from dandelion.analytics.models import AccountMetricsDay, PostEngagementDay
    from dandelion.assets.choices import AccountStatus
    from dandelion.assets.models import SocialAccount
    from dandelion.connectors import registry
    from dandelion.connectors.base import Capability, PostMetricsConnector
    from dandelion.connectors.errors import ConnectorError
    from dandelion.inbox.connect import account_ref
    from dandelion.publishing.choices import VariantState
    from dandelion.publishing.models import PostVariant

    require_perm(actor, PERM_REBUILD)
    now = timezone.now()
    today = today or now.astimezone(dt.UTC).date()
    since = now - dt.timedelta(days=ENGAGEMENT_DAYS)
    counts = {"accounts": 0, "posts": 0, "skipped": 0, "failed": 0}
    for account in SocialAccount.objects.filter(status=AccountStatus.ACTIVE).order_by("pk").iterator():
        ref = account_ref(account)
        key = registry.connector_key_for(ref)
        if not registry.has_capability(key, Capability.METRICS, ref.config):
            counts["skipped"] += 1
            continue
        connector = registry.get(key)
        try:
            metrics = connector.fetch_metrics(ref)
            AccountMetricsDay.objects.update_or_create(account=account, day=today, defaults={
                "unit_id": account.owner_unit_id, "followers": _count(metrics.followers),
                "following": _count(metrics.following), "posts": _count(metrics.posts), "collected_at": now})
            counts["accounts"] += 1
            if not isinstance(connector, PostMetricsConnector):
                continue
            variants = {v.external_id: v for v in PostVariant.objects.filter(
                account=account, state=VariantState.SENT, sent_at__gte=since).exclude(external_id="")
                .select_related("post").order_by("pk")}
            ids = list(variants)
            for i in range(0, len(ids), ENGAGEMENT_BATCH):
                for m in connector.fetch_post_metrics(ref, ids[i:i + ENGAGEMENT_BATCH]):
                    variant = variants.get(m.external_id)
                    if variant is None:  # not one we asked about
                        continue
                    PostEngagementDay.objects.update_or_create(variant=variant, day=today, defaults={
                        "account": account, "unit_id": variant.post.unit_id, "likes": _count(m.likes),
                        "replies": _count(m.replies), "reposts": _count(m.reposts), "quotes": _count(m.quotes),
                        "collected_at": now})
                    counts["posts"] += 1
        except ConnectorError as exc:
            counts["failed"] += 1
            logger.warning("analytics: metrics of account %s failed: %s", account.pk, exc)
    if counts["accounts"] or counts["failed"]:
        audit.record(actor=actor, action="analytics.collect_metrics", obj=None,
                     summary=f"Read network metrics: {counts['accounts']} accounts, {counts['posts']} posts, "
                             f"{counts['failed']} failed", changes=counts)
    return counts


def featured_stories_since(user, *, since: dt.datetime, limit: int = 10) -> list[SuccessStory]:
    """The success stories the hub featured since ``since`` that ``user`` may read (newest first): offered to the
    community's weekly digest through ``AnalyticsConfig.community_digest_stories``."""
    return list(SuccessStory.objects.readable_by(user).filter(status=StoryStatus.FEATURED, featured_at__gte=since)
                .select_related("unit").order_by("-featured_at", "-id")[:limit])
