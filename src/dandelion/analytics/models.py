"""Analytics: the daily rollups every dashboard reads, and the success stories spokes write about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dandelion.analytics.choices import BlockGrain, DigestStatus, StoryStatus, StoryTheme
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager, RestrictedQuerySet


class RollupFigures(models.Model):
    """The figures every rollup level carries: counters that sum, duration histograms that merge."""

    inbound = models.PositiveIntegerField(default=0)
    needs_reply = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    inbound_answered = models.PositiveIntegerField(default=0)
    hidden = models.PositiveIntegerField(default=0)
    hidden_spam = models.PositiveIntegerField(default=0)
    hidden_abuse = models.PositiveIntegerField(default=0)
    sentiment_positive = models.PositiveIntegerField(default=0)
    sentiment_neutral = models.PositiveIntegerField(default=0)
    sentiment_negative = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)
    first_responses = models.PositiveIntegerField(default=0)
    frt_sum_s = models.BigIntegerField(default=0)
    frt_hist = models.JSONField(default=dict, blank=True)
    resolutions = models.PositiveIntegerField(default=0)
    resolution_sum_s = models.BigIntegerField(default=0)
    resolution_hist = models.JSONField(default=dict, blank=True)
    sla_met = models.PositiveIntegerField(default=0)
    sla_breached = models.PositiveIntegerField(default=0)
    # publishing and the networks' figures (on the account's row with no team and no language; see rollup.py)
    posts = models.PositiveIntegerField(default=0)
    link_clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(default=0, help_text="Rise of the posts' like counts read that day.")
    replies = models.BigIntegerField(default=0)
    reposts = models.BigIntegerField(default=0)
    quotes = models.BigIntegerField(default=0)
    followers_gained = models.BigIntegerField(default=0, help_text="Rise of the follower count read that day.")

    class Meta:
        abstract = True


class DailyRollup(RollupFigures):
    """The inbox's figures of one account × team × language on one day (UTC).

    Derived data: ``services.rebuild_day`` deletes and recomputes a whole day in one transaction, so a day is
    always exactly what its raw rows say (or what they said when it was last computed: ``computed_at``). ``unit``
    and ``network`` are the account's at that time. The duration histograms are sparse ``{"bucket": count}`` maps
    on the fixed scale of ``analytics.histogram``: merging rows merges distributions exactly."""

    org_scope = OrgScope(path="unit__path", team="team_id")

    day = models.DateField(db_index=True)
    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="daily_rollups")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="daily_rollups")
    team = models.ForeignKey("orgs.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="daily_rollups")
    network = models.CharField(max_length=40)
    language = models.CharField(max_length=8, blank=True)

    computed_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ("day", "account_id", "team_id", "language")
        indexes = [models.Index(fields=["unit", "day"]), models.Index(fields=["account", "day"])]

    def __str__(self) -> str:
        return f"{self.day} · account {self.account_id} · team {self.team_id or '—'} · {self.language or '—'}"


class RollupBlock(RollupFigures):
    """A pre-merged level of the daily rollups, written by ``services.write_day`` in the same transaction as the
    day's ``DailyRollup`` rows, so that a dashboard reads a few hundred rows instead of every account × team ×
    language × day row of its period:

    * **unit rows** (``account`` empty, grain ``day``): one per day × unit × network for every unit that holds an
      account *and each of its ancestors*, plus one with ``network`` empty for all networks: the hub's 90 days
      are 90 rows of the root;
    * **account rows** (``account`` set): one per account × day (grain ``day``) and per account × ISO week
      (grain ``week``, ``start`` its Monday; rewritten whenever a day of the week is): the per-unit and
      per-account breakdowns of a 90-day period read ~18 rows per account.

    Derived from ``DailyRollup`` only (teams and languages merged), so it is exactly their sum: the equivalence is
    tested against the fine rows on random data (``tests/analytics/test_blocks.py``)."""

    org_scope = OrgScope(path="unit__path")

    grain = models.CharField(max_length=4, choices=BlockGrain.choices)
    start = models.DateField()
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("assets.SocialAccount", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    network = models.CharField(max_length=40, blank=True, help_text="Empty on unit rows: every network.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("start", "grain", "unit_id", "account_id", "network")
        indexes = [models.Index(fields=["unit", "network", "grain", "start"]),
                   models.Index(fields=["account", "grain", "start"]),
                   models.Index(fields=["grain", "start"])]

    def __str__(self) -> str:
        who = f"account {self.account_id}" if self.account_id else f"unit {self.unit_id} · {self.network or '*'}"
        return f"{self.grain} {self.start} · {who}"


class RollupVersion(models.Model):
    """The rollups' generation: one row, its ``version`` bumped by every ``services.write_day`` transaction (a
    day rebuilt, a backfill, the hourly refresh). The merged figures of a dashboard period are cached under this
    version (``reports.cached_dashboard``): any rewrite of any day makes every cached period stale at once, in every
    process, because the version is read from the database on each request."""

    org_scope = OrgScope.internal("a counter read by the dashboard cache only, never shown")

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"rollups version {self.version}"


class StoryQuerySet(RestrictedQuerySet):
    def readable_by(self, user) -> StoryQuerySet:
        """What ``user`` may read: the stories of their units, and every featured story (the hub shares those
        with all spokes) when they may read stories at all."""
        from dandelion.core.permissions import has_perm

        if not has_perm(user, "analytics.view_successstory"):
            return self.none()
        scoped = self.restrict(user, "view").values("pk")
        return self.filter(Q(pk__in=scoped) | Q(status=StoryStatus.FEATURED))


class SuccessStory(TimeStampedModel):
    """What a spoke did and why, in Markdown, with a frozen before/after snapshot of its figures.

    The snapshot is computed from the rollups when attached and never recomputed: the story keeps the figures it
    was told with, even if later rebuilds refine them. Draft → submitted (to the hub) → featured (by the hub)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="success_stories")
    account = models.ForeignKey("assets.SocialAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="success_stories",
                                help_text="The property the story is about (its figures are the snapshot's).")
    title = models.CharField(max_length=160)
    body = models.TextField(help_text="Markdown: what you did and why.")
    theme = models.CharField(max_length=20, choices=StoryTheme.choices, default=StoryTheme.OTHER)
    status = models.CharField(max_length=10, choices=StoryStatus.choices, default=StoryStatus.DRAFT)
    before_start = models.DateField(null=True, blank=True)
    before_end = models.DateField(null=True, blank=True)
    after_start = models.DateField(null=True, blank=True)
    after_end = models.DateField(null=True, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="Frozen figures: {before: {...}, after: {...}}.")
    snapshot_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    featured_at = models.DateTimeField(null=True, blank=True)
    featured_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ("-featured_at", "-submitted_at", "-created_at", "-id")
        verbose_name_plural = "success stories"
        permissions = [("submit_successstory", "Can submit a success story to the hub"),
                       ("feature_successstory", "Can feature a success story")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("analytics:story-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class DigestDelivery(models.Model):
    """One weekly digest for one person about one unit's subtree: the job's idempotency record. A row is planned
    once per (person, unit, week) (unique), claimed by a conditional update before sending, and marked sent: a
    second run sends nothing again; a killed run's claim expires and the digest is sent by the next run."""

    org_scope = OrgScope(path="unit__path")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField(help_text="The Monday of the week the digest reports on (UTC days).")
    status = models.CharField(max_length=10, choices=DigestStatus.choices, default=DigestStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-week_start", "unit_id", "user_id")
        verbose_name_plural = "digest deliveries"
        constraints = [models.UniqueConstraint(fields=["user", "unit", "week_start"], name="uniq_digest_delivery")]

    def __str__(self) -> str:
        return f"digest {self.week_start} · unit {self.unit_id} → user {self.user_id} ({self.status})"


class AccountMetricsDay(models.Model):
    """An account's audience figures on one day (UTC), read from its connector's metrics capability by the job
    ``analytics.collect_network_metrics``: one row per account per day, overwritten by later reads of the same day
    (the day's last reading wins). ``None``: the network does not report that figure."""

    org_scope = OrgScope(path="unit__path")

    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+",
                             help_text="The account's owner unit when read.")
    day = models.DateField()
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    following = models.PositiveBigIntegerField(null=True, blank=True)
    posts = models.PositiveBigIntegerField(null=True, blank=True)
    collected_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ("day", "account_id")
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="uniq_account_metrics_day")]

    def __str__(self) -> str:
        return f"{self.day} · account {self.account_id}: {self.followers} followers"


class PostEngagementDay(models.Model):
    """The engagement of one published post (a sent publishing variant) as read on one day (UTC): running totals
    the network reports (likes, replies, reposts), one row per variant per day, overwritten by later reads of the
    same day. ``None``: the network does not report that figure (never 0)."""

    org_scope = OrgScope(path="unit__path")

    variant = models.ForeignKey("publishing.PostVariant", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+",
                             help_text="The post's unit.")
    day = models.DateField()
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    replies = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    quotes = models.PositiveBigIntegerField(null=True, blank=True)
    collected_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ("day", "variant_id")
        constraints = [models.UniqueConstraint(fields=["variant", "day"], name="uniq_post_engagement_day")]
        indexes = [models.Index(fields=["account", "day"])]

    def __str__(self) -> str:
        return f"{self.day} · variant {self.variant_id}: {self.likes}/{self.replies}/{self.reposts}"

    @property
    def total(self) -> int | None:
        figures = [v for v in (self.likes, self.replies, self.reposts, self.quotes) if v is not None]
        return sum(figures) if figures else None
