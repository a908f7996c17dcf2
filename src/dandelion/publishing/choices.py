"""The choices of the publishing app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PostState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PAUSED = "paused", _("Paused (crisis)")
    SENDING = "sending", _("Sending")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which the text may be edited (editing an approved or scheduled post sends it back to review).
EDITABLE_STATES = frozenset({PostState.DRAFT, PostState.IN_REVIEW, PostState.APPROVED, PostState.SCHEDULED,
                             PostState.PAUSED})
#: States a post never leaves.
TERMINAL_STATES = frozenset({PostState.PUBLISHED, PostState.FAILED, PostState.CANCELLED})


class VariantState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class RuleKind(models.TextChoices):
    BANNED_TERMS = "banned_terms", _("Banned terms")
    SENSITIVE_TERMS = "sensitive_terms", _("Sensitive terms (competitors, legal...)")
    REQUIRED_DISCLOSURE = "required_disclosure", _("Required disclosure on sponsored posts")
    ALLOWED_LINK_DOMAINS = "allowed_link_domains", _("Allowed link domains")
    MAX_HASHTAGS = "max_hashtags", _("Maximum hashtags")
    MAX_MENTIONS = "max_mentions", _("Maximum mentions")
    ALT_TEXT = "alt_text", _("Alt text on every image")
    LANGUAGE = "language", _("Language matches the account's languages")


class Severity(models.TextChoices):
    BLOCK = "block", _("Blocks the post")
    WARN = "warn", _("Warning")
    APPROVAL = "approval", _("Needs the extra approval step")


class StepMode(models.TextChoices):
    ANY = "any", _("Any one of them")
    ALL = "all", _("All of them")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REQUEST_CHANGES = "request_changes", _("Changes requested")
    COMMENT = "comment", _("Comment")


class CampaignStatus(models.TextChoices):
    """Where one spoke stands in a campaign (the hub's matrix), from its posts of the campaign."""

    NOT_STARTED = "not_started", _("Not started")
    DRAFTING = "drafting", _("Drafting")
    IN_APPROVAL = "in_approval", _("In approval")
    APPROVED = "approved", _("Approved, not scheduled")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    DECLINED = "declined", _("Declined")


class ShareState(models.TextChoices):
    SENT = "sent", _("Shared")
    FAILED = "failed", _("Failed")
