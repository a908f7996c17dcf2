"""In-app notifications: one row per person told about a domain event."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dandelion.core.querysets import OrgScope

#: How each event type reads in the bell, written at display time (so in the reader's language).
TITLES = {
    "conversation.assigned": _("Conversation #%(conversation)s on %(handle)s was assigned to you"),
    "conversation.resolved": _("Your conversation #%(conversation)s on %(handle)s was resolved"),
    "conversation.sla_breached": _("SLA missed on conversation #%(conversation)s (%(handle)s): %(metric)s"),
    "conversation.reply_held": _("A reply by %(author)s on conversation #%(conversation)s (%(handle)s) awaits your "
                                 "approval"),
    "conversation.reply_approved": _("Your reply on conversation #%(conversation)s (%(handle)s) was approved and "
                                     "sent"),
    "conversation.reply_returned": _("Your reply on conversation #%(conversation)s (%(handle)s) was returned: "
                                     "%(reason)s"),
    "account.changed": _("Account %(handle)s changed (%(change)s)"),
    "crisis.incident_opened": _("Crisis room opened: %(title)s (severity %(severity)s/10)"),
    "crisis.incident_escalated": _("Crisis escalated: %(title)s (severity %(severity)s/10)"),
}


class NotificationQuerySet(models.QuerySet):
    def for_recipient(self, user) -> NotificationQuerySet:
        """The user's own notifications, nothing else (scoped to the recipient, not to the org tree)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Tells ``recipient`` about one domain event (``event_type`` / ``event_id``), with a title and a link.

    Scoped to the recipient: nobody else lists, reads or marks it, whatever their role."""

    # not org-scoped: each person reads their own, always through ``for_recipient``; restrict() shows none
    org_scope = OrgScope.internal("a person's own notifications, read only through for_recipient")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event_type = models.CharField(max_length=80)
    event_id = models.CharField(max_length=36, help_text="The domain event's id (one event, many recipients).")
    unit = models.ForeignKey("orgs.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="What the title is written from (ids, labels).")
    url = models.CharField(max_length=300, blank=True, help_text="A path inside Dandelion.")
    actor_repr = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_recipient_unread"),
            models.Index(fields=["read_at"], name="notif_read_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_id"], name="uniq_notification_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id}"

    @property
    def title(self) -> str:
        template = TITLES.get(self.event_type)
        if template is None:
            return gettext("%(type)s") % {"type": self.event_type}
        values = {"conversation": "", "handle": "", "metric": "", "change": "", "title": "", "severity": "",
                  "author": "", "reason": "",
                  **self.data}
        try:
            return str(template) % values
        except (KeyError, TypeError, ValueError):
            return self.event_type

    def get_absolute_url(self) -> str:
        return reverse("notifications:open", args=[self.pk])

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DigestPreference(models.Model):
    """Whether a person receives the daily e-mail digest of what waits on them (no row: yes). Changed on the
    notifications page (:func:`dandelion.notifications.services.set_email_digest`)."""

    org_scope = OrgScope.internal("a person's own choice, read only for the signed-in person and the digest job")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    email_digest = models.BooleanField(_("daily e-mail digest"), default=True,
                                       help_text=_("An e-mail each morning with what waits on you."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("user_id",)

    def __str__(self) -> str:
        return f"digest {'on' if self.email_digest else 'off'} for {self.user_id}"

    def get_absolute_url(self) -> str:
        return reverse("notifications:settings")


class DigestSent(models.Model):
    """The claim of one person's daily digest for one local day (``day``, in their time zone): unique per person and
    day, inserted in the transaction that sends it, so the digest job sends each at most once however often it
    runs. ``items`` is 0 when nothing waited (no e-mail then)."""

    org_scope = OrgScope.internal("the digest job's claims, never read through a page")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    items = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-sent_at",)
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="uniq_notification_digest_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"
