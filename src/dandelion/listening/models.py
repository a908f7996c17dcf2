"""Listening: saved queries over public mentions, their hourly rollups and the spike alerts they raise.

Mentions are stored apart from inbox conversations: a public post about the brand does not need an answer by
default. A mention belongs to a unit (the unit of the account that received it, or the query's unit for feeds and
replays) and matches any number of queries (:class:`MentionMatch`). Charts read :class:`HourlyRollup` rows, one per
query and hour, written at ingestion: a 30-day chart is 720 rows, never a scan of the mentions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.listening.choices import AlertState, MentionSource


class ListeningQuery(TimeStampedModel):
    """A saved boolean query (see :mod:`dandelion.listening.query`), owned by a unit and seen within its scope."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="listening_queries")
    name = models.CharField(max_length=120)
    text = models.TextField(max_length=2000, help_text="The query, e.g. (acme OR #acme) AND NOT lang:de")
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    is_competitor = models.BooleanField(default=False, help_text="A competitor's query, for share of voice.")
    network_search = models.BooleanField(
        default=False, help_text="Also search the networks' public posts, through the accounts whose connector can "
                                 "search (see listening.search).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    subscribers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="listening_subscriptions",
                                         help_text="People e-mailed when the query raises an alert.")
    detector_state = models.JSONField(default=dict, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, help_text="The last failure of one of its sources.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    mention_count = models.PositiveIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "listening query"
        verbose_name_plural = "listening queries"
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="uniq_listening_query_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("listening:query-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class Mention(models.Model):
    """One public post seen by listening (an inbound message, a feed item, a search result, a replayed tweet)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=MentionSource.choices)
    source_ref = models.CharField(max_length=200, help_text="The source's id for the item (idempotency key).")
    network = models.CharField(max_length=40, blank=True)
    url = models.URLField(max_length=500, blank=True)
    author = models.CharField(max_length=150, blank=True)
    author_reach = models.PositiveIntegerField(default=0)
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    country = models.CharField(max_length=2, blank=True)
    sentiment = models.CharField(max_length=10, blank=True)
    posted_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    account = models.ForeignKey("assets.SocialAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="The account that received it, for inbound messages.")
    conversation_id = models.BigIntegerField(null=True, blank=True,
                                             help_text="The inbox conversation it was turned into (or came from).")
    addressed = models.BooleanField(default=False, help_text="Written to the brand (a message to one of its "
                                    "accounts, a DM, an @-mention of its handle), not only about it.")
    needs_reply = models.BooleanField(default=False, help_text="Only an addressed mention may need a reply "
                                      "(see listening.addressing).")

    objects = RestrictedManager()

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["source", "source_ref"], name="uniq_mention_source_ref")]

    def __str__(self) -> str:
        return f"{self.author or 'anonymous'}: {self.text[:60]}"

    def get_absolute_url(self) -> str:
        return reverse("listening:mention-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class MentionMatch(models.Model):
    """A mention matched by a query (the query's scope decides who sees the match)."""

    org_scope = OrgScope(path="query__unit__path")

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="matches")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="matches")
    posted_at = models.DateTimeField(help_text="The mention's, copied so a query's page reads one index.")

    objects = RestrictedManager()

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["query", "mention"], name="uniq_mention_match")]
        indexes = [models.Index(fields=["query", "-posted_at"], name="listening_match_query_time")]

    def __str__(self) -> str:
        return f"{self.query_id}:{self.mention_id}"


class HourlyRollup(models.Model):
    """One query's matches in one hour: volume, sentiment mix, top terms, hashtags, authors, languages, countries."""

    org_scope = OrgScope(path="query__unit__path")

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="rollups")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    reach = models.BigIntegerField(default=0)
    terms = models.JSONField(default=dict, blank=True)  # {"word": n, "#tag": n, "@author": n, "lang:xx": n, ...}

    objects = RestrictedManager()

    class Meta:
        ordering = ["query", "hour"]
        constraints = [models.UniqueConstraint(fields=["query", "hour"], name="uniq_listening_rollup_hour")]

    def __str__(self) -> str:
        return f"{self.query_id}@{self.hour:%Y-%m-%d %H}h: {self.count}"


class Alert(TimeStampedModel):
    """A spike of a query: opened by the detector, updated while it continues, closed when it has passed."""

    org_scope = OrgScope(path="query__unit__path")

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="alerts")
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.OPEN, db_index=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(default=1)
    peak_count = models.PositiveIntegerField(default=0)
    expected = models.FloatField(default=0)
    window_minutes = models.PositiveSmallIntegerField(default=0)
    p_value = models.FloatField(default=1)
    updates = models.PositiveIntegerField(default=0)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.query} spike (severity {self.severity})"

    def get_absolute_url(self) -> str:
        return reverse("listening:alert-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.query.unit


class InboundCursor(models.Model):
    """How far the inbound-message job has read (one row): the last inbox message id turned into mentions."""

    org_scope = OrgScope.internal("job bookkeeping, read by the listening job only")

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class SearchCursor(models.Model):
    """How far a query's network search has read through one account: per search term, the newest post seen.

    One row per query × account (the account lends its connector and credentials to the search); its ``last_error``
    is the search's health on that account, the query's ``last_error`` the latest of them."""

    org_scope = OrgScope(path="query__unit__path")

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="search_cursors")
    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="+")
    state = models.JSONField(default=dict, blank=True)  # {"term": {"newest": iso datetime}}
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0, help_text="Posts this search has stored as mentions.")

    objects = RestrictedManager()

    class Meta:
        ordering = ["query", "account"]
        constraints = [models.UniqueConstraint(fields=["query", "account"], name="uniq_listening_search_cursor")]

    def __str__(self) -> str:
        return f"{self.query_id}×{self.account_id}"


class AlertMail(models.Model):
    """An alert e-mail sent to a query's subscribers (the log the anti-spam cap counts)."""

    org_scope = OrgScope(path="alert__query__unit__path")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="mails")
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=10)  # opened, updated
    severity = models.PositiveSmallIntegerField(default=1)
    recipients = models.PositiveIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} {self.sent_at:%Y-%m-%d %H:%M}"
