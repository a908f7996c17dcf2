from django.db import models


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending (waiting on customer)"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"
    HIDDEN = "hidden", "Hidden (spam, abuse)"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class ConversationKind(models.TextChoices):
    PUBLIC = "public", "Public thread"
    PRIVATE = "private", "Direct messages"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    NOTE = "note", "Internal note"


class MessageKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    MENTION = "mention", "Mention"
    DM = "dm", "Direct message"
    REPLY = "reply", "Reply"


class ModerationState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"
    DELETED = "deleted", "Deleted"


class DeliveryStatus(models.TextChoices):
    NONE = "", "—"
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Intent(models.TextChoices):
    QUESTION = "question", "Question"
    COMPLAINT = "complaint", "Complaint"
    PRAISE = "praise", "Praise"
    OTHER = "other", "Other"


class DeliveryState(models.TextChoices):
    """State of a stored webhook delivery / replay batch awaiting processing."""

    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    ROUTED = "routed", "Routed"
    ASSIGNED = "assigned", "Assigned"
    TAKEN = "taken", "Taken over"
    HANDOVER = "handover", "Handed over"
    STATUS = "status", "Status changed"
    PRIORITY = "priority", "Priority changed"
    TAGGED = "tagged", "Tagged"
    ESCALATED = "escalated", "Escalated"
    SLA_BREACHED = "sla_breached", "SLA breached"
    MODERATED = "moderated", "Moderated"
    REPLIED = "replied", "Replied"
    SWEPT = "swept", "Put back in front of a team"
    APPROVAL = "approval", "Reply approval"
    ANSWERED_ELSEWHERE = "answered_elsewhere", "Answered from a linked account"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved and sent"
    REJECTED = "rejected", "Returned to the author"
