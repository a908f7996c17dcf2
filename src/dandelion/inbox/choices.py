from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ConversationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("conversation status", "Open")
    PENDING = "pending", _("Pending (waiting on customer)")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")
    HIDDEN = "hidden", _("Hidden (spam, abuse)")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ConversationKind(models.TextChoices):
    PUBLIC = "public", _("Public thread")
    PRIVATE = "private", _("Direct messages")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    NOTE = "note", _("Internal note")


class MessageKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    MENTION = "mention", _("Mention")
    DM = "dm", _("Direct message")
    REPLY = "reply", pgettext_lazy("message kind", "Reply")


class ModerationState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")
    DELETED = "deleted", _("Deleted")


class DeliveryStatus(models.TextChoices):
    NONE = "", "—"
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Intent(models.TextChoices):
    QUESTION = "question", _("Question")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")


class DeliveryState(models.TextChoices):
    """State of a stored webhook delivery / replay batch awaiting processing."""

    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ROUTED = "routed", _("Routed")
    ASSIGNED = "assigned", _("Assigned")
    TAKEN = "taken", _("Taken over")
    HANDOVER = "handover", _("Handed over")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    TAGGED = "tagged", _("Tagged")
    ESCALATED = "escalated", _("Escalated")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    MODERATED = "moderated", _("Moderated")
    REPLIED = "replied", _("Replied")
    SWEPT = "swept", _("Put back in front of a team")
    APPROVAL = "approval", _("Reply approval")
    ANSWERED_ELSEWHERE = "answered_elsewhere", _("Answered from a linked account")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved and sent")
    REJECTED = "rejected", _("Returned to the author")
    WITHDRAWN = "withdrawn", _("Withdrawn by the author")
