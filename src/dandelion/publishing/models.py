"""Posts, their per-account variants and media, guideline rules, approval workflows and crisis pauses."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.publishing.choices import (
    Decision,
    PostState,
    RuleKind,
    Severity,
    ShareState,
    StepMode,
    VariantState,
)


class Post(TimeStampedModel):
    """A post drafted in a unit for one or many of its accounts: a main text, one variant per account.

    ``scheduled_at`` is stored in UTC; ``schedule_timezone`` is the zone it was entered in (the accounts' unit's).
    ``review_round`` grows each time the post goes back to review: approvals of earlier rounds no longer count.
    ``checks`` keep the last guideline check results (run on submit and again before sending)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="posts")
    title = models.CharField(max_length=200, blank=True, help_text="Internal label, never published.")
    text = models.TextField(max_length=20000)
    state = models.CharField(max_length=20, choices=PostState.choices, default=PostState.DRAFT, db_index=True)
    is_sponsored = models.BooleanField(default=False, help_text="Sponsored content needs its disclosure.")
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    schedule_timezone = models.CharField(max_length=64, blank=True)
    workflow = models.ForeignKey("publishing.Workflow", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="posts")
    review_round = models.PositiveIntegerField(default=0)
    needs_extra_approval = models.BooleanField(default=False)
    checks = models.JSONField(default=list, blank=True, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    guideline_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    campaign = models.ForeignKey("publishing.Campaign", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="posts", help_text="The hub's campaign this post localises.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["unit", "state"])]

    def __str__(self) -> str:
        return self.title or (self.text[:60] + ("…" if len(self.text) > 60 else ""))

    def get_absolute_url(self) -> str:
        return reverse("publishing:post-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class PostVariant(models.Model):
    """The post as it goes to one account: the main text or an override, and what sending it did.

    ``idempotency_key`` travels with every attempt so a retry never posts twice; ``due_at`` is when the send job
    may next claim it (the schedule, then the retry backoff). A claim is a conditional UPDATE of ``state``."""

    org_scope = OrgScope(path="post__unit__path")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    account = models.ForeignKey("assets.SocialAccount", on_delete=models.PROTECT, related_name="post_variants")
    text = models.TextField(max_length=20000, blank=True, help_text="Empty: the post's main text.")
    state = models.CharField(max_length=20, choices=VariantState.choices, default=VariantState.PENDING)
    due_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True, default="", editable=False)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("post_id", "id")
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="uniq_variant_post_account")]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.post} → {self.account}"

    def save(self, *args, **kwargs):
        if not self.idempotency_key:
            self.idempotency_key = uuid.uuid4().hex
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()

    @property
    def effective_text(self) -> str:
        return self.text or self.post.text

    @property
    def audit_unit(self):
        return self.post.unit


class PostMedia(models.Model):
    """An image attached to a post, with its alt text (required before the post may go out)."""

    org_scope = OrgScope(path="post__unit__path")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="publishing/%Y/%m/")
    thumbnail = models.FileField(upload_to="publishing/thumbs/%Y/%m/", blank=True)
    alt_text = models.CharField(max_length=1500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=50, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("post_id", "position", "id")

    def __str__(self) -> str:
        return self.alt_text[:60] or self.file.name

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()


class GuidelineRule(TimeStampedModel):
    """One automatic guideline check, written by the hub as data and applied to a unit's whole subtree.

    ``params`` by kind: terms ``{"terms": [...]}``; disclosure ``{"terms": ["#ad", "#pub"]}``; domains
    ``{"domains": ["example.com"]}``; maxima ``{"max": 3}``; alt text and language take none."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="guideline_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.BLOCK)
    params = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True, help_text="Shown to the author when the rule fires.")
    guideline = models.ForeignKey("orgs.Guideline", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", help_text="The guidelines version this rule enforces.")
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("publishing:rule-list") + f"#rule-{self.pk}"

    @property
    def audit_unit(self):
        return self.unit


class Workflow(TimeStampedModel):
    """An approval workflow bound to a unit's subtree: ordered steps. The deepest active workflow above a post's
    unit applies to it; a post with none needs no approval (but the extra step when a check asks for it)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("publishing:workflow-list") + f"#workflow-{self.pk}"

    @property
    def audit_unit(self):
        return self.unit


class WorkflowStep(models.Model):
    """One step: approved by people holding ``role`` on the post's unit or above, any one of them or all."""

    org_scope = OrgScope(path="workflow__unit__path")

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=30)
    mode = models.CharField(max_length=10, choices=StepMode.choices, default=StepMode.ANY)

    objects = RestrictedManager()

    class Meta:
        ordering = ("workflow_id", "order")
        constraints = [models.UniqueConstraint(fields=["workflow", "order"], name="uniq_step_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def get_absolute_url(self) -> str:
        return self.workflow.get_absolute_url()


class Approval(models.Model):
    """A reviewer's decision or comment on a post in one review round (``step_order`` 0: the extra step)."""

    org_scope = OrgScope(path="post__unit__path")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approvals")
    review_round = models.PositiveIntegerField()
    step_order = models.PositiveSmallIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("post_id", "created_at", "id")

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.user}"

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()


class CrisisPause(models.Model):
    """Every scheduled post of ``unit``'s subtree is held while the pause is active (``ended_at`` empty)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="crisis_pauses")
    reason = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    posts_paused = models.PositiveIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"Pause of {self.unit}: {self.reason[:60]}"

    def get_absolute_url(self) -> str:
        return reverse("publishing:pause-list") + f"#pause-{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def audit_unit(self):
        return self.unit


class Campaign(TimeStampedModel):
    """A campaign the hub (or a region) runs across its spokes: a brief, a window every spoke's posts fall in, a
    master post each spoke localises for its own accounts and languages and sends through its own workflow.

    Scoped by the campaign's unit: the spokes see it through their :class:`CampaignSpoke` rows."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    brief = models.TextField(max_length=10000, blank=True, help_text="What the spokes should say and why.")
    master_text = models.TextField(max_length=20000, help_text="The master post each spoke localises.")
    is_sponsored = models.BooleanField(default=False)
    starts_at = models.DateTimeField(help_text="No spoke's post of the campaign goes out before this.")
    ends_at = models.DateTimeField(help_text="...nor after this.")
    utm = models.JSONField(default=dict, blank=True, help_text="UTM parameters for the campaign's links, over the "
                           "unit's (utm_campaign defaults to the campaign's name when links are tagged).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ("-starts_at", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("publishing:campaign-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class CampaignSpoke(models.Model):
    """A spoke assigned to a campaign: its decline (with the reason) and the hub's nudges. Its status in the
    matrix is computed from its posts of the campaign (``services.spoke_status``). Scoped by the spoke's unit, so
    the spoke sees its assignment and the campaign's owner (above it) sees every row."""

    org_scope = OrgScope(path="unit__path")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="spokes")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="campaign_assignments")
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    nudged_at = models.DateTimeField(null=True, blank=True)
    nudge_count = models.PositiveSmallIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ("campaign_id", "unit__path")
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="uniq_campaign_spoke")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("publishing:campaign-spoke", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class PublishingSettings(models.Model):
    """A unit's publishing settings, inherited by its subtree (the deepest unit with a row decides):

    * ``utm``: UTM parameters appended at send time to every link of the posts' text (``{"utm_source":
      "{network}", "utm_medium": "social"}``; ``{network}`` and ``{account}`` are replaced); empty: no tagging;
    * ``shorten_links``: links are replaced at send time by a short link of Dandelion's own that counts clicks;
    * ``slots``: the weekly posting slots of the queue, ``[{"weekday": 0, "time": "09:00"}, ...]`` (Monday is 0),
      wall-clock times in ``timezone`` (empty: the time zone of the unit whose post is queued)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.OneToOneField("orgs.OrgUnit", on_delete=models.CASCADE, related_name="publishing_settings")
    utm = models.JSONField(default=dict, blank=True)
    shorten_links = models.BooleanField(default=False)
    slots = models.JSONField(default=list, blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="Empty: the unit's time zone.")
    short_link_base = models.URLField(max_length=200, blank=True, help_text="Where the short links of this "
                                      "subtree live (a short domain pointing at Dandelion); empty: the "
                                      "environment's DANDELION_SHORT_LINK_BASE.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path",)
        verbose_name_plural = "publishing settings"

    def __str__(self) -> str:
        return f"Publishing settings of {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("publishing:settings", args=[self.unit_id])

    @property
    def audit_unit(self):
        return self.unit


class ShortLink(models.Model):
    """A link of a sent post replaced by Dandelion's own short link (``/l/<code>``): the redirect counts clicks.

    Made at send time, one per (variant, target); a retried send reuses it."""

    org_scope = OrgScope(path="post__unit__path")

    code = models.CharField(max_length=16, unique=True)
    # a sent post's link (post and variant), or an employee's share of an advocacy item (share)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="short_links")
    variant = models.ForeignKey(PostVariant, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="short_links")
    share = models.ForeignKey("AdvocacyShare", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="short_links")
    target_url = models.URLField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)
    last_click_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("post_id", "id")

    def __str__(self) -> str:
        return f"/l/{self.code} → {self.target_url[:80]}"

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url() if self.post_id else self.share.item.get_absolute_url()

    @property
    def path(self) -> str:
        return reverse("publishing-links:follow", args=[self.code])


# --- employee advocacy ----------------------------------------------------------------------------------------------


class PersonalAccount(models.Model):
    """A member's own account on a network (not the brand's), registered by that person to share the advocacy
    library. ``unit`` is the unit the person shares for (one they belong to): shares and clicks count for it."""

    org_scope = OrgScope(path="unit__path")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_accounts")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="personal_accounts")
    network = models.CharField(max_length=40)
    handle = models.CharField(max_length=150)
    external_id = models.CharField(max_length=150, help_text="The network's id for the person's account.")
    connector = models.CharField(max_length=40, default="sandbox", help_text="The connector that publishes for it.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: set when the person connected it through the network's OAuth consent: the token, encrypted at rest
    credentials_encrypted = models.TextField(blank=True, editable=False)
    credentials_expires_at = models.DateTimeField(null=True, blank=True)
    connector_config = models.JSONField(default=dict, blank=True, help_text="What the connector needs (instance).")
    instance = models.CharField(max_length=300, blank=True, help_text="The server it was connected through.")
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When its owner disconnected it.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("user_id", "network", "handle")
        constraints = [models.UniqueConstraint(fields=["network", "external_id"], name="uniq_personal_account")]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"

    @property
    def audit_unit(self):
        return self.unit

    @property
    def credentials(self) -> dict:
        """Decrypted credentials, for its connector only (never shown, never logged)."""
        from dandelion.assets import crypto

        return crypto.decrypt_json(self.credentials_encrypted) if self.credentials_encrypted else {}

    def set_credentials(self, data: dict) -> None:
        from dandelion.assets import crypto

        self.credentials_encrypted = crypto.encrypt_json(data) if data else ""

    @property
    def is_connected(self) -> bool:
        """Connected through the network's consent (holds a token)."""
        return bool(self.credentials_encrypted)


class AdvocacyItem(TimeStampedModel):
    """Approved content in a unit's advocacy library: members of the unit's subtree share it to their own accounts
    with a suggested text (per language, editable when sharing). Either an approved post of the unit's subtree or
    an item written for the library (title, link, texts)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="advocacy_items")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.PROTECT, related_name="advocacy_items")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, blank=True, help_text="The link members share (shortened per share).")
    suggested_texts = models.JSONField(default=dict, blank=True, help_text="{language: suggested text}")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at", "id")
        permissions = [("share_advocacyitem", "Can share advocacy content to one's own accounts")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("publishing:advocacy-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit

    def text_for(self, languages) -> str:
        """The suggested text in the first of ``languages`` the item has, else its first text."""
        for lang in languages or ():
            if lang in self.suggested_texts:
                return self.suggested_texts[lang]
        return next(iter(self.suggested_texts.values()), "")


class AdvocacyShare(models.Model):
    """One member's share of an advocacy item on one of their personal accounts (once per item and account)."""

    org_scope = OrgScope(path="unit__path")

    item = models.ForeignKey(AdvocacyItem, on_delete=models.CASCADE, related_name="shares")
    account = models.ForeignKey(PersonalAccount, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+",
                             help_text="The spoke the share counts for (the account's unit).")
    text = models.TextField(max_length=20000)
    state = models.CharField(max_length=10, choices=ShareState.choices, default=ShareState.SENT)
    external_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [models.UniqueConstraint(fields=["item", "account"], name="uniq_advocacy_share")]
        indexes = [models.Index(fields=["item", "unit"])]

    def __str__(self) -> str:
        return f"{self.item} on {self.account}"

    @property
    def audit_unit(self):
        return self.unit


class ShortLinkVisitor(models.Model):
    """A client that followed a short link recently (``client``: a keyed hash of its address and user agent, never
    the address itself): its clicks within the window count once. Purged after the window."""

    org_scope = OrgScope.organisation_wide("anonymous click de-duplication; holds no personal data")

    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="+")
    client = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("link_id", "seen_at")
        constraints = [models.UniqueConstraint(fields=["link", "client"], name="uniq_short_link_visitor")]

    def __str__(self) -> str:
        return f"{self.client[:8]}… on {self.link_id}"
