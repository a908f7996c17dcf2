"""The inbox in the Django admin: for inspection. Conversations, messages, contacts and deliveries change only
through the inbox's services (their audit rows, SLA clocks and connector calls live there), so they are read-only
here; canned responses and tags are plain configuration, edited with an audit row (``AuditedAdmin``)."""

from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.inbox.models import (
    AuthorIdentity,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    InboundDelivery,
    Message,
    MessageAttachment,
    PendingReply,
    ReplyApprovalPolicy,
    Tag,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search, never write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("sent_at", "direction", "kind", "text", "language", "sentiment", "intent", "moderation_state")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "contact", "status", "priority", "team", "assignee", "language", "escalated",
                    "sla_due_at", "last_activity_at")
    list_filter = ("status", "priority", "escalated", "language")
    search_fields = ("contact__name", "routing_reason")
    list_select_related = ("account", "contact", "team", "assignee")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "network", "external_id", "direction", "kind", "language", "intent", "sentiment",
                    "needs_reply", "moderation_state", "sent_at")
    list_filter = ("direction", "kind", "language", "intent", "sentiment", "moderation_state")
    search_fields = ("external_id", "text")


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin):
    """Failed deliveries are found here (filter by state) with their error; the safety-net job retries the
    temporary ones."""

    list_display = ("id", "account", "source", "state", "attempts", "received_at", "error")
    list_filter = ("state", "source")
    list_select_related = ("account",)


admin.site.register(Contact, ReadOnlyAdmin, list_display=("name", "country", "is_vip", "followers", "created_at"),
                    search_fields=("name",))
admin.site.register(AuthorIdentity, ReadOnlyAdmin, list_display=("network", "external_id", "handle", "name", "contact"),
                    search_fields=("handle", "name", "external_id"))
admin.site.register(ConversationEvent, ReadOnlyAdmin, list_display=("conversation", "kind", "actor", "created_at"),
                    list_filter=("kind",))
admin.site.register(CannedResponse, AuditedAdmin, list_display=("title", "shortcut", "unit", "language"),
                    search_fields=("title", "shortcut", "body"))
admin.site.register(Tag, AuditedAdmin, list_display=("name",), search_fields=("name",))
# held replies change only through approve_reply / reject_reply (they send on the network): read-only here
admin.site.register(PendingReply, ReadOnlyAdmin, list_display=("conversation", "author", "status", "reviewer", "created_at"),
                    list_filter=("status",))
admin.site.register(ReplyApprovalPolicy, ReadOnlyAdmin, list_display=("unit", "author_roles", "tags", "is_active"))


@admin.register(MessageAttachment)
class MessageAttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "content_type", "size", "stored", "account", "external_id", "received_at")
    list_filter = ("stored",)
