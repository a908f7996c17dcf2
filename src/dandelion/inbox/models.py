"""The unified inbox (domain model after Chatwoot, adapted to hub and spoke).

An ``AuthorIdentity`` (network + external id) belongs to a ``Contact`` (one person across networks). Messages from
an account are grouped into ``Conversation``s (a public thread or a DM exchange) that are routed to a team, assigned,
held to an SLA and answered. ``InboundDelivery`` is the durable record of a webhook body (or replay batch) before
processing: a 202 is answered only once it is stored. ``(account, external_id)``, the receiving account and the
network's id, is each message's idempotency key: an event delivered twice to one account is stored once; the same
public post received by two of the organisation's accounts is stored once in each inbox, and the copies are linked
by their shared ``(network, external_id)`` (:meth:`Message.linked`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager, RestrictedQuerySet
from dandelion.inbox.choices import (
    ApprovalStatus,
    ConversationKind,
    ConversationStatus,
    DeliveryState,
    DeliveryStatus,
    Direction,
    EventKind,
    MessageKind,
    ModerationState,
    Priority,
)


class Contact(TimeStampedModel):
    """One person across networks: name, languages, country, reach, VIP flag."""

    org_scope = OrgScope.organisation_wide("one person across the organisation; listed through conversations")

    name = models.CharField(max_length=200, blank=True)
    languages = models.JSONField(default=list, blank=True)
    country = models.CharField(max_length=2, blank=True)
    followers = models.PositiveIntegerField(default=0, help_text="Largest reach over the person's identities.")
    is_vip = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name or f"Contact #{self.pk}"


class AuthorIdentity(TimeStampedModel):
    """An author as one network knows them."""

    org_scope = OrgScope.organisation_wide("an author as a network knows them; part of the contact")

    network = models.CharField(max_length=40)
    external_id = models.CharField(max_length=150)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    handle = models.CharField(max_length=150, blank=True)
    name = models.CharField(max_length=200, blank=True)
    followers = models.PositiveIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ("network", "handle")
        verbose_name_plural = "author identities"
        constraints = [models.UniqueConstraint(fields=["network", "external_id"], name="uniq_author_identity")]

    def __str__(self) -> str:
        return f"{self.handle or self.name or self.external_id} ({self.network})"


class Tag(models.Model):
    """A label on conversations (set by people or routing rules)."""

    org_scope = OrgScope.organisation_wide("labels shared by every unit's conversations")

    name = models.CharField(max_length=60, unique=True)
    color = models.CharField(max_length=7, default="#667085")

    objects = RestrictedManager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Conversation(TimeStampedModel):
    """A thread or DM exchange on one account with one contact, routed to a team and held to an SLA."""

    org_scope = OrgScope(path="account__owner_unit__path", team="team_id")

    # account, team and assignee: no index of their own, each leads a composite index (Meta)
    account = models.ForeignKey("assets.SocialAccount", on_delete=models.PROTECT, related_name="conversations",
                                db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    kind = models.CharField(max_length=10, choices=ConversationKind.choices, default=ConversationKind.PUBLIC)
    thread_key = models.CharField(
        max_length=200, help_text="Root external id of a public thread, or the author id for DMs."
    )
    status = models.CharField(max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey(
        "orgs.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations",
        db_index=False,
    )
    language = models.CharField(max_length=8, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    routing_reason = models.JSONField(
        default=dict, blank=True, help_text="Which rule or default put it where: {'rule': id|None, 'explanation': ...}"
    )
    needs_reply = models.BooleanField(default=False)
    escalated = models.BooleanField(default=False)
    waiting_since = models.DateTimeField(null=True, blank=True, help_text="Oldest unanswered inbound message.")
    first_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_due_at = models.DateTimeField(null=True, blank=True, help_text="Nearest active SLA target.")
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_team_activity_at = models.DateTimeField(
        null=True, blank=True, help_text="Last action by a person of the team (reply, note, assignment, status)."
    )
    swept_at = models.DateTimeField(null=True, blank=True, help_text="Last time the sweep put it back in front.")
    search_text = models.TextField(
        blank=True, default="", editable=False,
        help_text="Contact name, then each message's author name, handle and text, case-folded (inbox.search).")
    search_truncated = models.BooleanField(
        default=False, editable=False, help_text="The search text reached its limit: later messages are searched "
                                                 "in the messages themselves.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("sla_due_at", "-last_activity_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "thread_key"], name="uniq_conversation_thread"),
        ]
        indexes = [
            # the queue order (nearest SLA first, then latest activity): a team's queue and a whole scope's list
            # (search, "all") are read in index order and stop at their page; on PostgreSQL an ascending column
            # sorts NULLs last, as the queue does
            models.Index(fields=["team", "status", "sla_due_at", "-last_activity_at", "id"], name="inbox_conv_team_queue"),
            models.Index(fields=["sla_due_at", "-last_activity_at", "id"], name="inbox_conv_queue_order"),
            models.Index(fields=["status", "sla_due_at"], condition=Q(escalated=True), name="inbox_conv_escalated"),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "needs_reply", "waiting_since"]),
            models.Index(fields=["id"], condition=Q(search_truncated=True), name="inbox_conv_search_truncated"),
        ]

    def __str__(self) -> str:
        return f"Conversation #{self.pk} on {self.account.handle}"

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.account.owner_unit


class Message(models.Model):
    """One message of a conversation: inbound from a customer, outbound from the brand, or an internal note."""

    org_scope = OrgScope(path="conversation__account__owner_unit__path", team="conversation__team_id")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     db_index=False)  # leads the (conversation, sent_at) index
    # no index of its own: the (external_id, account) key serves the lookups; only deleting an account would
    # scan (a rare action, refused anyway while the account has conversations)
    account = models.ForeignKey(
        "assets.SocialAccount", on_delete=models.PROTECT, related_name="+", db_index=False,
        help_text="The receiving account (the conversation's): with the external id, the idempotency key.")
    network = models.CharField(max_length=40)
    external_id = models.CharField(max_length=150, null=True, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.COMMENT)
    author_identity = models.ForeignKey(  # leads the (author_identity, conversation) index
        AuthorIdentity, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", db_index=False
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    text = models.TextField()
    in_reply_to = models.CharField(max_length=150, blank=True)
    sent_at = models.DateTimeField(db_index=True, help_text="When the network says it was written.")
    received_at = models.DateTimeField(auto_now_add=True)
    language = models.CharField(max_length=8, blank=True)
    language_confidence = models.FloatField(default=0)
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(default=0)
    intent = models.CharField(max_length=10, blank=True)
    spam = models.FloatField(default=0)
    abuse = models.FloatField(default=0)
    needs_reply = models.BooleanField(default=False)
    replied = models.BooleanField(default=False, help_text="An outbound message answered it.")
    replied_at = models.DateTimeField(null=True, blank=True, help_text="When the first answer was sent.")
    is_automatic = models.BooleanField(
        default=False, help_text="Sent by a routing rule (auto-acknowledgement): not an individual response."
    )
    moderation_state = models.CharField(
        max_length=10, choices=ModerationState.choices, default=ModerationState.VISIBLE
    )
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, blank=True, default="")
    delivery_error = models.CharField(max_length=500, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a failed send is retried.")
    canned_response = models.ForeignKey(
        "inbox.CannedResponse", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ("sent_at", "id")
        constraints = [
            # the idempotency key: what one account received (the same post reaching two accounts is two messages).
            # The external id leads, so the same index finds a batch's duplicates and the copies other accounts
            # received (linked messages) by external id: no second index to write on every insert
            models.UniqueConstraint(
                fields=["external_id", "account"], condition=Q(external_id__isnull=False), name="uniq_message_external"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"]),
            models.Index(fields=["direction", "needs_reply", "replied", "sent_at"]),
            models.Index(fields=["delivery_status", "next_attempt_at"]),
            # search by author: the conversations of an author's messages, read from the index alone
            models.Index(fields=["author_identity", "conversation"], name="inbox_msg_author_conv"),
            # set by people only (outbound, notes): indexed where set, for ON DELETE SET NULL, not on every message
            models.Index(fields=["author_user"], condition=Q(author_user__isnull=False), name="inbox_msg_author_user"),
            models.Index(fields=["canned_response"], condition=Q(canned_response__isnull=False),
                         name="inbox_msg_canned"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind}: {self.text[:40]}"

    def save(self, *args, **kwargs) -> None:
        if self.account_id is None and self.conversation_id is not None:
            self.account_id = self.conversation.account_id  # always the conversation's account
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation-detail", args=[self.conversation_id]) + f"#m{self.pk}"

    def linked(self):
        """The copies of this message received by the organisation's other accounts (same network message)."""
        if not self.external_id:
            return Message.objects.none()
        return Message.objects.filter(network=self.network, external_id=self.external_id).exclude(
            account_id=self.account_id)

    @property
    def audit_unit(self):
        return self.conversation.account.owner_unit


class ConversationEvent(models.Model):
    """The conversation's history: routing decisions, assignments, handovers with reasons, SLA breaches."""

    org_scope = OrgScope(path="conversation__account__owner_unit__path", team="conversation__team_id")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.conversation_id}"


class CannedResponseQuerySet(RestrictedQuerySet):
    def usable_for(self, user, conversation) -> CannedResponseQuerySet:
        """The canned responses ``user`` may use on ``conversation``: those of the account's unit and of every unit
        above it (the hub's answers reach every spoke), and those of the unit of the team that holds it (a vendor's
        own answers). Whoever may view canned responses where the conversation lives (a team-scoped grant: on its
        team) gets them all, whatever unit defined them; nobody else gets any."""
        from dandelion.core.permissions import has_perm

        unit = conversation.account.owner_unit
        if not has_perm(user, "inbox.view_cannedresponse", unit, team_id=conversation.team_id):
            return self.none()
        ids = {int(p) for p in unit.path.strip("/").split("/") if p}
        if conversation.team_id:
            ids.add(conversation.team.unit_id)
        return self.filter(unit_id__in=ids)


class CannedResponse(TimeStampedModel):
    """A reusable answer with placeholders ({contact_name}, {agent_name}, {account_name}) and translations."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="canned_responses")
    title = models.CharField(max_length=120)
    shortcut = models.SlugField(max_length=40)
    body = models.TextField(help_text="Default text (the unit's main language).")
    language = models.CharField(max_length=8, default="en")
    translations = models.JSONField(default=dict, blank=True, help_text="{language code: text}")

    objects = CannedResponseQuerySet.as_manager()

    class Meta:
        ordering = ("title",)
        constraints = [models.UniqueConstraint(fields=["unit", "shortcut"], name="uniq_canned_shortcut")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("inbox:canned-edit", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class InboundDelivery(models.Model):
    """A stored webhook body (or replay batch) awaiting processing: durable before the 202 is answered."""

    org_scope = OrgScope(path="account__owner_unit__path")

    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="deliveries")
    source = models.CharField(max_length=20, default="webhook")
    body = models.TextField(help_text="The raw body as received (kept for audit and debugging).")
    payload = models.JSONField(
        default=list, blank=True, help_text="The parsed events, serialised (what processing reads)."
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When processing ended: done, or failed for good (retention counts the age from it).")
    event_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Backoff after a failed attempt.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("received_at", "id")
        verbose_name_plural = "inbound deliveries"
        indexes = [models.Index(fields=["state", "received_at"]),
                   models.Index(fields=["state", "processed_at"], name="inbox_delivery_state_processed")]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} ({self.state})"

    @property
    def audit_unit(self):
        return self.account.owner_unit


#: The roles that approve held replies unless a policy names others (those who answer for a unit's voice).
DEFAULT_APPROVER_ROLES = ["hub_admin", "spoke_admin", "community_manager", "pr_manager"]


class ReplyApprovalPolicy(TimeStampedModel):
    """A unit's rule that some replies wait for a supervisor before they are sent (Sprout Social's reply
    approvals): replies by people whose role on the conversation is one of ``author_roles`` (trainees, an external
    vendor), or on conversations tagged with one of ``tags`` (legal, press, VIP). A policy covers its unit's whole
    subtree; ``approver_roles`` name who may approve or return them (never the author)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.OneToOneField("orgs.OrgUnit", on_delete=models.CASCADE, related_name="reply_approval_policy")
    author_roles = models.JSONField(default=list, blank=True, help_text="Roles whose replies need approval.")
    tags = models.JSONField(default=list, blank=True, help_text="Tag names whose conversations need approval.")
    approver_roles = models.JSONField(default=list, blank=True, help_text="Roles that approve (empty: the default).")
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path",)
        verbose_name_plural = "reply approval policies"

    def __str__(self) -> str:
        return f"Reply approval in {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("inbox:approval-policy")

    @property
    def approvers(self) -> list[str]:
        return list(self.approver_roles or DEFAULT_APPROVER_ROLES)

    @property
    def audit_unit(self):
        return self.unit


class PendingReply(TimeStampedModel):
    """A reply held for approval: nothing reaches the network until an approver approves it (then it is sent as
    the author's reply, possibly edited) or returns it with a reason the author reads."""

    org_scope = OrgScope(path="conversation__account__owner_unit__path", team="conversation__team_id")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="pending_replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    canned_response = models.ForeignKey("inbox.CannedResponse", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    why = models.CharField(max_length=200, blank=True, help_text="Why the policy held it (role or tag).")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was returned.")
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Reply by {self.author} on #{self.conversation_id} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation-detail", args=[self.conversation_id])

    @property
    def audit_unit(self):
        return self.conversation.account.owner_unit


class MessageAttachment(models.Model):
    """A file that came with an inbound message (an e-mail's attachment), keyed like the message itself by its
    account and the network's id (so it is stored when the poll is, before the message row exists). The bytes live
    in the attachments storage under their SHA-256 (no sender-chosen name in any path); ``filename`` is sanitised;
    a file over the size limit is listed with ``stored=False``."""

    org_scope = OrgScope(path="account__owner_unit__path")

    account = models.ForeignKey("assets.SocialAccount", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=150, help_text="The message's external id on the account.")
    position = models.PositiveSmallIntegerField(default=0)
    filename = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    stored = models.BooleanField(default=False, help_text="False: over the size limit, listed only.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("account", "external_id", "position")
        constraints = [models.UniqueConstraint(fields=["account", "external_id", "position"],
                                               name="uniq_attachment_account_message_position")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.size} bytes)"

    @property
    def storage_name(self) -> str:
        return f"{self.account_id}/{self.sha256[:2]}/{self.sha256}"
